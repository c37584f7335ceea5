"""The scrape-dump parser on the shipped corpus (the real Huawei partner-center scrape)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.passage import Passage
from ingest.registry import parse, parse_paths
from ingest.scrape import parse_scrape

CORPUS_FILE = Path(__file__).resolve().parents[2] / "corpus" / "partner-faq-scrape.txt"


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    return parse(CORPUS_FILE)


def by_title(passages: list[Passage], title: str) -> Passage:
    return next(p for p in passages if p.title == title)


def test_corpus_gives_twenty_passages(passages: list[Passage]) -> None:
    assert len(passages) == 20
    assert len({p.id for p in passages}) == 20
    result = parse_paths([CORPUS_FILE.parent])
    assert [p.id for p in result.passages] == [p.id for p in passages]
    assert result.skipped == [] and result.duplicates_merged == 0


def test_login_banner_and_dont_show_again_are_gone(passages: list[Passage]) -> None:
    for passage in passages:
        text = f"{passage.title}\n{passage.answer}\n{passage.topic}"
        assert "检测到您已登录" not in text
        assert "不再显示此消息" not in text


def test_seven_entries_under_the_po_topic(passages: list[Passage]) -> None:
    po = [p for p in passages if p.topic == "共享给华为(PO)"]
    # Six carry the breadcrumb; the cut-off "机会点重复处理原则?" takes it from the entries it resembles.
    assert len(po) == 7
    assert all(p.kind == "faq" and p.title.endswith("?") for p in po)
    assert all("父主题" not in p.answer for p in passages)


def test_every_entry_has_a_topic(passages: list[Passage]) -> None:
    assert all(p.topic for p in passages)
    scenarios = [p for p in passages if p.kind == "scenario"]
    assert {p.topic for p in scenarios} == {"开放接口场景"}
    assert by_title(passages, "机会点重复处理原则?").topic == "共享给华为(PO)"
    # Nothing in the dump resembles the MDF paragraph or the invoice question: a label of their kind.
    assert by_title(passages, "伙伴提交使用申请").topic == "政策与规则"
    invoice = next(p for p in passages if p.title.startswith("合作伙伴为华为的激励开票时"))
    assert invoice.topic == "其他常见问题"
    # A breadcrumb on the page always wins.
    assert by_title(passages, "上市不通过").topic == "解决方案构建"


def test_a_derived_topic_is_part_of_the_content_hash(tmp_path: Path) -> None:
    line = "机会点重复处理原则? PCE机会点重复处理原则:当多个PO或者HO出现重复时,仅允许一个PCE机会点通过。"
    alone = parse_scrape(tmp_path / "a.txt", line + "\n")[0]
    neighbour = "PCE机会点重复时谁优先? 多个PO重复时,以机会点验证通过的提交时间点为准。 父主题: 共享给华为(PO)"
    with_neighbour = parse_scrape(tmp_path / "b.txt", f"{line}\n{neighbour}\n")[0]
    assert alone.topic == "其他常见问题" and with_neighbour.topic == "共享给华为(PO)"
    assert alone.id == with_neighbour.id and alone.hash != with_neighbour.hash


def test_kinds(passages: list[Passage]) -> None:
    kinds = [p.kind for p in passages]
    assert kinds.count("scenario") == 6
    assert kinds.count("faq") == 12
    assert kinds.count("policy") == 2


def test_scenario_pages_carry_their_api_links(passages: list[Passage]) -> None:
    assert by_title(passages, "管理客户").links == ("http://support.huaweicloud.com/api-bpconsole/mc_00021",)
    assert by_title(passages, "管理按需资源").links == (
        "https://support.huaweicloud.com/api-bpconsole/mqr_01002",
    )
    assert by_title(passages, "查询国家省市信息").links == (
        "https://support.huaweicloud.com/api-bpconsole/mpf_02001",
    )
    with_api_list = [p for p in passages if p.kind == "scenario" and "相关API列表" in p.answer and not p.truncated]
    assert len(with_api_list) >= 3
    for passage in with_api_list:
        assert passage.links, passage.title
        assert passage.answer.startswith("服务对象")
        assert "\n场景描述" in passage.answer


def test_cut_off_address_is_not_kept_as_a_link(passages: list[Passage]) -> None:
    bill = by_title(passages, "查询客户月度消费账单")
    assert bill.truncated
    assert bill.answer.endswith("https://support.huaweicloud")
    assert bill.links == ()


def test_cut_off_entries_are_flagged_truncated(passages: list[Passage]) -> None:
    for title in ("机会点重复处理原则?", "查询客户月度消费账单", "如何修改云经销商的邮箱、手机等信息?"):
        assert by_title(passages, title).truncated, title
    for title in ("伙伴提交PO后如何取消?", "管理客户", "查询国家省市信息", "管理包年/包月订单"):
        assert not by_title(passages, title).truncated, title


def test_faq_titles_and_answers_are_split_at_the_question_mark(passages: list[Passage]) -> None:
    entry = by_title(passages, "伙伴提交PO后如何取消?")
    assert entry.answer.startswith("伙伴提交PO后无法取消")
    assert entry.answer.endswith("在CRM进行取消。")
    assert entry.lang == "zh"


def test_ids_are_stable_and_follow_content(tmp_path: Path, passages: list[Passage]) -> None:
    again = parse(CORPUS_FILE)
    assert [p.id for p in again] == [p.id for p in passages]
    assert [p.hash for p in again] == [p.hash for p in passages]
    changed = tmp_path / "changed.txt"
    changed.write_text(
        CORPUS_FILE.read_text(encoding="utf-8").replace("BD驳回", "PDM驳回"), encoding="utf-8"
    )
    changed_ids = {p.id for p in parse(changed)}
    original_ids = {p.id for p in passages}
    assert len(original_ids - changed_ids) == 1
    assert by_title(passages, "机会点/PO验证时效?").id in changed_ids


def test_full_width_punctuation(tmp_path: Path) -> None:
    text = "如何登录伙伴中心？单击右上角的“登录”。 父主题：账号管理\n资料提交说明，提交后三个工作日内审核完成。\n"
    passages = parse_scrape(tmp_path / "x.txt", text)
    assert passages[0].title == "如何登录伙伴中心？"
    assert passages[0].topic == "账号管理"
    assert not passages[0].truncated
    assert passages[1].title == "资料提交说明"
    assert passages[1].kind == "policy" and not passages[1].truncated
