"""Property tests: whatever bytes a file holds, `parse_paths` yields passages or reports a skip.

Random and malformed HTML, Markdown, JSONL and scrape text, truncated bytes, mixed encodings,
huge lines and control characters; bounded so the suite stays fast.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.registry import parse_paths

EXTENSIONS = (".txt", ".html", ".htm", ".md", ".jsonl", ".ndjson", ".xyz", "")
KINDS = {"faq", "scenario", "policy", "guide"}

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HUGE = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = st.sampled_from(
    ["如何修改邮箱？", "单击“修改”。", "Reset your password.", "伙伴中心", "额度>=0", "a < b", "x", " ", "\n",
     "\u3000", "\u200b", "\ufeff", "\x00", "\x07", "\x1b[0m", "\r\n", "\t", "😀", "\ud7ff", "\U0010ffff"]
)
CONTROL_TEXT = st.text(st.characters(codec="utf-8", categories=("Cc", "Cf", "Zs", "Zl", "Zp", "Lo", "Ll")))
HTML_BITS = st.sampled_from(
    ["<html>", "<head>", "<title>", "</title>", "<body>", "<main>", "<article>", "</article>", "<div>", "</div>",
     "<p>", "</p>", "<h1>", "</h1>", "<h2>", "<h3>", "</h2>", "<br>", "<br/>", "<table><tr><td>", "</td>",
     "<ul><li>", "<pre>", "</pre>", "<script>", "</script>", "<style>", "<!--", "-->", "<![CDATA[", "]]>",
     "<?xml", "<!DOCTYPE html>", "<!", "</", "<", ">", "&", "&amp;", "&#", "&#x1F600;", "&nbsp", "&lt;",
     '<a href="javascript:alert(1)">', '<a href="data:text/html,x">', '<a href="https://example.com/a">',
     '<a href="/rel">', "</a>", '<link rel="canonical" href="https://x.example/">', '<base href="mailto:">',
     '<meta property="og:url" content="http://[::1">', '<div class="cookie-banner">', '<nav aria-label="breadcrumb">',
     '<div class="parentlink">', "父主题：", "父主题", "<header>", "<footer>", "<form>", "<img alt=", "'", '"', "=",
     "<h1>如何退订？", "<li aria-current=page>"]
)
MARKDOWN_BITS = st.sampled_from(
    ["# ", "## ", "### ", "#### ", "#", "\n", "\n\n", "```", "~~~", "    ", "- ", "* ", "1. ", "> ", ">!", ">?",
     "[", "]", "(", ")", "](", "![", "[](id:q2)", "[x](https://example.com/x)", "[y][r]", "[r]: http://r.example",
     "<https://auto.example>", "**", "*", "__", "_", "~~", "`", "\\", "|", "|---|---|", "---", "===", "***",
     "<br>", "<td>", "</td>", "<!--", "-->", "&nbsp;", "+++", "title: x", "如何分配代金券？", "Why?", "正文。"]
)
SCRAPE_BITS = st.sampled_from(
    ["父主题:", "父主题：", " 父主题: 共享给华为(PO)", "服务对象", "场景描述", "相关API列表", "开放接口 接口定义链接",
     "https://support.huaweicloud.com/api-bpconsole/mc_00021", "https://support.huaweicloud", "?", "？", "。",
     "检测到您已登录华为云国际站账号", "不再显示此消息", "如何提交PO?", "伙伴提交PO后无法取消", ",", "：", "\n", " "]
)


def joined(bits: st.SearchStrategy[str], max_size: int = 60) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(bits, WORDS, st.text(max_size=8)), max_size=max_size).map("".join)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "question": st.one_of(joined(MARKDOWN_BITS, 10), JSON_VALUES),
        "answer": st.one_of(joined(MARKDOWN_BITS, 20), JSON_VALUES),
        "topic": st.one_of(st.text(max_size=10), JSON_VALUES),
        "url": st.one_of(st.text(max_size=10), JSON_VALUES),
        "source": st.one_of(st.text(max_size=10), JSON_VALUES),
    },
)
JSONL_LINES = st.one_of(
    RECORDS.map(lambda r: json.dumps(r, ensure_ascii=False)),
    RECORDS.map(json.dumps),
    JSON_VALUES.map(json.dumps),
    joined(MARKDOWN_BITS, 10),
    st.just("[" * 5000),
)


def check(name: str, data: bytes) -> None:
    """Write `data` to a fresh file and parse it: passages, or one reported skip; never an exception."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        result = parse_paths([path])
    assert result.files_read == 1
    # Either passages and no skip, or no passage and the file reported once, with its reason.
    assert len(result.skipped) == (0 if result.passages else 1)
    assert all(skipped.path == str(path) and skipped.reason.strip() for skipped in result.skipped)
    for passage in result.passages:
        assert passage.id and passage.title.strip() and passage.kind in KINDS
        assert passage.lang in ("zh", "en")
        assert all(link.startswith(("http://", "https://")) for link in passage.links)
        assert "\x00" not in passage.answer


@FAST
@given(name=st.sampled_from(EXTENSIONS).map(lambda ext: f"page{ext}"), text=st.text(max_size=300))
def test_random_text(name: str, text: str) -> None:
    check(name, text.encode("utf-8", "surrogatepass"))


@FAST
@given(name=st.sampled_from(EXTENSIONS).map(lambda ext: f"page{ext}"), text=CONTROL_TEXT)
def test_control_characters(name: str, text: str) -> None:
    check(name, text.encode("utf-8"))


@FAST
@given(ext=st.sampled_from((".html", ".htm", "")), text=joined(HTML_BITS, 80))
def test_malformed_html(ext: str, text: str) -> None:
    check(f"page{ext}", text.encode("utf-8", "surrogatepass"))


@FAST
@given(ext=st.sampled_from((".md", ".markdown", "")), text=joined(MARKDOWN_BITS, 80))
def test_malformed_markdown(ext: str, text: str) -> None:
    check(f"page{ext}", text.encode("utf-8", "surrogatepass"))


@FAST
@given(lines=st.lists(JSONL_LINES, max_size=8), newline=st.sampled_from(["\n", "\r\n", "\n\n"]))
def test_malformed_jsonl(lines: list[str], newline: str) -> None:
    check("faq.jsonl", newline.join(lines).encode("utf-8", "surrogatepass"))


@FAST
@given(lines=st.lists(joined(SCRAPE_BITS, 30), max_size=10))
def test_malformed_scrape(lines: list[str]) -> None:
    check("scrape.txt", "\n".join(lines).encode("utf-8", "surrogatepass"))


@FAST
@given(name=st.sampled_from(EXTENSIONS).map(lambda ext: f"page{ext}"), data=st.binary(max_size=400))
def test_random_bytes(name: str, data: bytes) -> None:
    check(name, data)


@FAST
@given(
    name=st.sampled_from(EXTENSIONS).map(lambda ext: f"page{ext}"),
    text=st.one_of(joined(HTML_BITS), joined(MARKDOWN_BITS), joined(SCRAPE_BITS)),
    cut=st.integers(min_value=0, max_value=400),
)
def test_truncated_bytes(name: str, text: str, cut: int) -> None:
    data = text.encode("utf-8", "surrogatepass")
    check(name, data[: min(cut, len(data))] or b" ")


@FAST
@given(
    name=st.sampled_from(EXTENSIONS).map(lambda ext: f"page{ext}"),
    chunks=st.lists(
        st.tuples(st.sampled_from(["utf-8", "gbk", "gb18030", "utf-16", "utf-16-le", "big5", "latin-1"]),
                  st.sampled_from(["父主题: 账号", "如何退订？", "<p>正文</p>", "# 标题\n", "Résumé", "退订"])),
        min_size=1,
        max_size=6,
    ),
)
def test_mixed_encodings(name: str, chunks: list[tuple[str, str]]) -> None:
    check(name, b"".join(text.encode(codec, "replace") for codec, text in chunks))


@HUGE
@given(
    name=st.sampled_from((".txt", ".html", ".md", ".jsonl", ".xyz")).map(lambda ext: f"huge{ext}"),
    chunk=st.one_of(joined(HTML_BITS, 6), joined(MARKDOWN_BITS, 6), joined(SCRAPE_BITS, 6), st.text(max_size=12)),
    newlines=st.booleans(),
)
def test_huge_lines(name: str, chunk: str, newlines: bool) -> None:
    chunk = chunk.replace("\n", " ") or "x"
    data = (chunk * (1_000_000 // len(chunk) + 1))[:1_000_000]
    check(name, (data + "\n" + data[:1000] if newlines else data).encode("utf-8", "surrogatepass"))
