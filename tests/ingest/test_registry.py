"""The registry: every unusable file is reported in `skipped` with its reason, nothing raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import ParseError
from ingest.registry import detect_format, parse, parse_paths

CORPUS_FILE = Path(__file__).resolve().parents[2] / "corpus" / "partner-faq-scrape.txt"
FAQ_LINE = "如何修改云经销商的邮箱？单击右上角用户名，选择“基本信息”修改。 父主题: 云经销商伙伴\n"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("gbk.txt", FAQ_LINE.encode("gbk"), "not UTF-8 text (invalid byte at offset 0)"),
        ("gbk.html", "<p>页面</p>".encode("gbk"), "not UTF-8 text"),
        ("utf16.md", "# 标题\n正文".encode("utf-16"), "binary file (contains NUL bytes)"),
        ("image.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary file (contains NUL bytes)"),
        ("empty.md", b"", "empty file"),
        ("blank.txt", b" \n\t\r\n\xe3\x80\x80\n", "empty file (only whitespace)"),
        ("notes.xyz", b"just some words", "unsupported file type '.xyz'"),
        ("README", b"plain words without structure", "unrecognised content"),
        ("chrome.txt", "检测到您已登录华为云国际站账号\n不再显示此消息\n".encode(), "no entries found"),
        ("nav.html", b"<html><body><nav>home</nav></body></html>", "no text content"),
        ("bad.jsonl", b"{oops\n", "no usable records (line 1: invalid JSON"),
    ],
)
def test_unusable_files_are_skipped_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = parse_paths([path, CORPUS_FILE])
    assert result.files_read == 2
    assert len(result.passages) == 20  # the good file in the same run is still parsed
    [skipped] = result.skipped
    assert skipped.path == str(path)
    assert skipped.reason.startswith(reason), skipped.reason
    with pytest.raises(ParseError):
        parse(path)


def test_nonexistent_path_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "faq.txt"
    result = parse_paths([missing])
    assert result.passages == []
    assert [(s.path, s.reason) for s in result.skipped] == [(str(missing), "no such file or folder")]


def test_a_folder_named_like_a_file_is_walked(tmp_path: Path) -> None:
    folder = tmp_path / "as-a-file.txt"
    folder.mkdir()
    (folder / "inner.md").write_text("# 标题\n正文内容。", encoding="utf-8")
    result = parse_paths([folder])
    assert result.skipped == [] and len(result.passages) == 1


def test_exact_duplicates_are_merged(tmp_path: Path) -> None:
    copy = tmp_path / "copy.txt"
    copy.write_bytes(CORPUS_FILE.read_bytes())
    result = parse_paths([CORPUS_FILE, copy])
    assert len(result.passages) == 20
    assert result.duplicates_merged == 20
    assert all(p.source == str(CORPUS_FILE) and p.extra_sources == (str(copy),) for p in result.passages)


def test_same_content_in_different_formats_is_merged(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"question": "如何退订？", "answer": "在控制台退订。"}\n', encoding="utf-8")
    (tmp_path / "b.html").write_text("<h1>如何退订？</h1><p>在控制台退订。</p>", encoding="utf-8")
    result = parse_paths([tmp_path])
    assert len(result.passages) == 1 and result.duplicates_merged == 1
    assert result.passages[0].extra_sources == (str(tmp_path / "b.html"),)


def test_hidden_files_and_folders_are_not_pages(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# 续费\n在控制台续费。", encoding="utf-8")
    (tmp_path / "docs" / ".draft.md").write_text("# 草稿\n未发布。", encoding="utf-8")
    hooks = tmp_path / "docs" / ".git" / "hooks"
    hooks.mkdir(parents=True)
    (hooks / "pre-commit.sample").write_text("#!/bin/sh\n# An example hook script\nexit 0\n", encoding="utf-8")
    result = parse_paths([tmp_path / "docs"])
    assert result.files_read == 1
    assert [p.title for p in result.passages] == ["续费"]


def test_folder_walk_is_sorted_and_gives_each_file_its_root(tmp_path: Path) -> None:
    for name in ("b/二.md", "a/一.md", "c.md"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {path.stem}\n{path.stem}的正文。", encoding="utf-8")
    result = parse_paths([tmp_path])
    assert [(p.title, p.topic) for p in result.passages] == [("一", "a"), ("二", "b"), ("c", "")]


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        ("page", "<!DOCTYPE html><html><body>x</body></html>", "html"),
        ("page", "  <html><p>x</p></html>", "html"),
        ("data", '{"question": "q", "answer": "a"}', "jsonl"),
        ("doc", "# Title\ntext", "markdown"),
        ("dump", "问题? 答案。 父主题: 主题", "scrape"),
        ("x.MD", "anything", "markdown"),
        ("x.ndjson", "anything", "jsonl"),
    ],
)
def test_detect_format(name: str, text: str, fmt: str) -> None:
    assert detect_format(Path(name), text) == fmt


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes("\ufeff# 标题\n正文内容。".encode())
    [passage] = parse(path)
    assert passage.title == "标题"
