"""The Markdown parser: the real Tencent partner-docs tree, and synthetic pages for each rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import ParseError
from ingest.markdown import markdown_to_text, parse_markdown
from ingest.passage import Passage
from ingest.registry import ParseResult, parse_paths
from ingest.sections import MAX_PASSAGE_CHARS

GUIDE = Path("管理与支持") / "渠道合作伙伴" / "用户指南"


@pytest.fixture(scope="module")
def docs_root(request: pytest.FixtureRequest) -> Path:
    shared_data: Path = request.getfixturevalue("shared_data")
    root = shared_data / "tencent-partner-docs"
    if not root.is_dir():
        pytest.skip(f"Markdown tree not found at {root}")
    return root


@pytest.fixture(scope="module")
def tree(docs_root: Path) -> ParseResult:
    return parse_paths([docs_root])


def page(tree: ParseResult, relative: str) -> list[Passage]:
    return [p for p in tree.passages if p.source.endswith(relative)]


def test_every_page_is_read(tree: ParseResult) -> None:
    assert tree.files_read == 168
    # Six pages have no text: four empty 协议管理 index pages and two that are only an image.
    assert len(tree.skipped) == 6
    assert all(s.reason.startswith(("no text content", "empty file")) for s in tree.skipped)
    pages = {p.source for p in tree.passages} | {s for p in tree.passages for s in p.extra_sources}
    assert len(pages) == 162
    assert len(tree.passages) > len(pages)  # long pages are split


def test_both_languages_present_and_taken_from_the_file_name(tree: ParseResult) -> None:
    langs = {p.lang for p in tree.passages}
    assert langs == {"zh", "en"}
    for passage in tree.passages:
        assert passage.lang == ("en" if passage.source.endswith("_intl_en.md") else "zh"), passage.source


def test_topic_is_the_folder_path(tree: ParseResult) -> None:
    [download] = page(tree, "子客/账单管理/下载账单_intl_zh.md")
    assert download.topic == "管理与支持 > 渠道合作伙伴 > 用户指南 > 子客 > 账单管理"
    assert download.title == "账单下载"
    assert download.kind == "guide"
    for passage in tree.passages:
        folders = Path(passage.source).relative_to(Path(passage.source).parents[len(passage.topic.split(" > "))])
        assert " > ".join(folders.parent.parts) == passage.topic


def test_title_is_the_first_heading_else_the_file_stem(tree: ParseResult) -> None:
    assert {p.title for p in page(tree, "子客/购买产品_intl_zh.md")} == {"购买产品"}
    assert {p.title.partition(" - ")[0] for p in page(tree, "子客/购买产品_intl_en.md")} == {"Product Purchase"}
    [voucher, *_] = page(tree, "申请厂商代金券_intl_en.md")
    assert voucher.title == "Applying for Vendor Voucher"  # from "# **Applying for Vendor Voucher**"
    # No heading at all: the file stem, without its language suffix.
    [contract] = page(tree, "总经销商/成为总经销商/合同签署_intl_zh.md")
    assert contract.title == "合同签署"


def test_headings_split_a_long_page(tree: ParseResult) -> None:
    titles = [p.title for p in page(tree, "访问管理/预设策略_intl_zh.md")]
    assert titles == [
        "预设策略",
        "预设策略 - 新建拥有渠道合作伙伴权限的子帐号",
        "预设策略 - 将渠道合作伙伴权限授予已存在的子帐号",
        "预设策略 - 解除子帐号的渠道合作伙伴权限",
    ]
    # Sibling headings a page opens with are sections, not the page title.
    steps = [p.title for p in page(tree, "二级经销商/受邀注册为二级经销商_intl_en.md")]
    assert steps == [
        "受邀注册为二级经销商 - 1. Account Registration",
        "受邀注册为二级经销商 - 2. Enterprise Identity Verification",
        "受邀注册为二级经销商 - 3. Qualification Review",
    ]


def test_markup_becomes_readable_text(tree: ParseResult) -> None:
    for passage in tree.passages:
        for markup in ("](", "![", "**", "<td", "<br", "</", ">!", ">?", "|---", "&nbsp;"):
            assert markup not in passage.answer, (markup, passage.source)
        assert all(link.startswith(("http://", "https://")) for link in passage.links)
        assert not any("qcloudimg" in link for link in passage.links)  # image URLs are not links
        assert len(passage.answer) <= MAX_PASSAGE_CHARS


def test_links_and_tables(tree: ParseResult) -> None:
    [intro, created, *_] = page(tree, "访问管理/预设策略_intl_zh.md")
    assert intro.links == ("https://intl.cloud.tencent.com/document/product/598/10588",)
    assert "请参见 支持 CAM 的产品。" in intro.answer
    assert "QcloudIntlpartnersmgtFullAccess | 渠道合作伙伴全读写访问权限" in intro.answer
    assert "https://console.cloud.tencent.com/cam" in created.links


def test_identical_twins_are_merged(tree: ParseResult) -> None:
    # The "_intl_zh" copy of the English second-level reseller terms is byte-identical to the English one.
    assert tree.duplicates_merged > 0
    terms = page(tree, "Tencent Cloud Second-Level Reseller Terms and Conditions_intl_en.md")
    assert len(terms) > 10
    assert all(p.extra_sources and p.extra_sources[0].endswith("_intl_zh.md") for p in terms)


def parse_text(tmp_path: Path, text: str, name: str = "page.md", root: Path | None = None) -> list[Passage]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return parse_markdown(path, text, root)


def test_single_file_topic_is_its_folder(tmp_path: Path) -> None:
    [passage] = parse_text(tmp_path, "## 续费管理\n子客可以在控制台续费资源。", name="子客/续费管理_intl_zh.md")
    assert passage.topic == "子客"
    assert passage.lang == "zh"


def test_root_folder_files_have_no_topic(tmp_path: Path) -> None:
    [passage] = parse_text(tmp_path, "Renew resources from the console.", name="renewal_en.md", root=tmp_path)
    assert passage.topic == ""
    assert passage.title == "renewal"
    assert passage.lang == "en"


def test_front_matter_is_stripped(tmp_path: Path) -> None:
    text = "---\ntitle: 账单\ntags: [billing]\n---\n# 下载账单\n子客可在账单界面下载月账单。\n"
    [passage] = parse_text(tmp_path, text)
    assert passage.title == "下载账单"
    assert passage.answer == "子客可在账单界面下载月账单。"


def test_a_rule_at_the_top_is_not_front_matter(tmp_path: Path) -> None:
    [passage] = parse_text(tmp_path, "---\n子客可在账单界面下载月账单。\n\n---\n按月汇总。\n")
    assert passage.answer == "子客可在账单界面下载月账单。\n按月汇总。"


def test_code_fences_are_kept_as_text(tmp_path: Path) -> None:
    text = "# 调用 API\n示例：\n```bash\n# not a heading\ncurl -X POST **raw** | jq\n```\n完成。\n"
    [passage] = parse_text(tmp_path, text)
    assert passage.answer == "示例：\n# not a heading\ncurl -X POST **raw** | jq\n完成。"


def test_inline_markup(tmp_path: Path) -> None:
    text = (
        "# Vouchers\n"
        "Click **Apply** in the *voucher* list, see [the guide](https://example.com/guide \"Guide\") "
        "or [the console][console], or <https://example.com/auto>. Keep snake_case_names and `code`.\n"
        "![screenshot](https://img.example.com/shot.png) ![img](a.png) ![The voucher list page](b.png)\n"
        "> Note: vouchers expire.\n"
        "Also [a relative page](../other.md) and [mail](mailto:a@b.c) and [](id:q2).\n"
        "Visit https://example.com/bare. ~~old~~ text &amp; more\n\n"
        "[console]: https://console.example.com/vouchers\n"
    )
    [passage] = parse_text(tmp_path, text)
    assert passage.answer == (
        "Click Apply in the voucher list, see the guide or the console, or https://example.com/auto. "
        "Keep snake_case_names and code.\nThe voucher list page\nNote: vouchers expire.\n"
        "Also a relative page and mail and .\nVisit https://example.com/bare. old text & more"
    )
    assert passage.links == (
        "https://example.com/guide",
        "https://console.example.com/vouchers",
        "https://example.com/auto",
        "https://example.com/bare",
    )
    assert passage.lang == "en"


def test_question_headings_are_faq(tmp_path: Path) -> None:
    body = "代金券可以抵扣订单金额，经销商可以在控制台为子客分配代金券，分配后子客即可在下单时使用。" * 10
    headings = ["如何分配代金券", "代金券有效期", "Why was my voucher rejected?"]
    text = "# 代金券常见问题\n" + "".join(f"## {heading}\n{body}\n" for heading in headings)
    passages = parse_text(tmp_path, text)
    assert [(p.title, p.kind) for p in passages] == [
        ("代金券常见问题 - 如何分配代金券", "faq"),
        ("代金券常见问题 - 代金券有效期", "guide"),
        ("代金券常见问题 - Why was my voucher rejected?", "faq"),
    ]


def test_short_sections_merge_into_the_previous_one(tmp_path: Path) -> None:
    body = "经销商可以为子客分配信用额度，额度用于子客购买产品，超出额度的订单需要经销商代付。" * 15
    text = f"# 信用额度\n## 分配额度\n{body}\n### 注意\n额度立即生效。\n## 调整额度\n{body}\n"
    first, second = parse_text(tmp_path, text)
    assert first.title == "信用额度 - 分配额度"
    assert first.answer.endswith("注意\n额度立即生效。")
    assert second.title == "信用额度 - 调整额度"


def test_setext_headings(tmp_path: Path) -> None:
    body = "The reseller allocates credit to a customer from the partner console in a few steps. " * 10
    text = f"Credit\n======\n\nAllocating\n----------\n{body}\n\nAdjusting\n---------\n{body}\n"
    assert [p.title for p in parse_text(tmp_path, text)] == ["Credit - Allocating", "Credit - Adjusting"]


def test_long_section_is_cut_into_parts(tmp_path: Path) -> None:
    text = "# Terms\n" + "\n\n".join(f"{i}. The partner shall pay all invoices within thirty days." for i in range(300))
    passages = parse_text(tmp_path, text)
    assert len(passages) > 1
    assert [p.title for p in passages][:2] == [f"Terms (1/{len(passages)})", f"Terms (2/{len(passages)})"]
    assert all(len(p.answer) <= MAX_PASSAGE_CHARS for p in passages)
    assert "299. The partner" in passages[-1].answer


def test_headings_only_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="only headings"):
        parse_text(tmp_path, "# 协议管理\n## 业务相关\n")
    with pytest.raises(ParseError, match="no text content"):
        parse_text(tmp_path, "![](https://img.example.com/a.png)\n")


def test_markdown_to_text_drops_html_and_keeps_its_links() -> None:
    text, links = markdown_to_text(
        '<table><tr><th><b>字段</b></th><th>说明</th></tr><tr><td>Type</td><td>枚举<br>Purchase</td></tr></table>'
        '<!-- hidden -->\n<p>见 <a href="https://example.com/doc">文档</a>。</p>'
    )
    assert text == "字段 | 说明\nType | 枚举\nPurchase\n见 文档。"
    assert links == ["https://example.com/doc"]


def test_broken_markup_and_indented_prose(tmp_path: Path) -> None:
    text = (
        "# 账单\n"
        "3、下载账单。\n\n"
        "    1.单击**下载**。\n"  # indented prose, not code
        "![image-1](/Users/a/Library/Application Support/shot.png) 见 [指南](https://example.com/a b)。\n"
        "7. 告知员工登录信息。\n"
        "| 登录信息 | 说明 |\n"  # a table continuing a list item: not a table for CommonMark
        "| ---- | ---- |\n"
        "| 账号 | 员工账号名 |\n\n"
        "泛域名如 \\*.tencent.com；`1**2` 是原文。\n"
    )
    [passage] = parse_text(tmp_path, text)
    assert passage.answer == (
        "3、下载账单。\n1.单击下载。\n见 指南。\n7. 告知员工登录信息。\n登录信息 | 说明\n账号 | 员工账号名\n"
        "泛域名如 *.tencent.com；1**2 是原文。"
    )
