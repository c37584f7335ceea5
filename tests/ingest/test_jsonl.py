"""The JSONL FAQ parser: the real 5,898-record Tencent FAQ file, and every kind of bad line."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from pathlib import Path

import pytest

from ingest.errors import ParseError
from ingest.jsonl import parse_jsonl
from ingest.passage import Passage, passage_id
from ingest.registry import ParseResult, parse_paths


@pytest.fixture(scope="module")
def faq_file(request: pytest.FixtureRequest) -> Path:
    shared_data: Path = request.getfixturevalue("shared_data")
    path = shared_data / "tencent-intl-faq.jsonl"
    if not path.is_file():
        pytest.skip(f"FAQ file not found at {path}")
    return path


@pytest.fixture(scope="module")
def records(faq_file: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in faq_file.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def result(faq_file: Path) -> ParseResult:
    return parse_paths([faq_file])


def test_real_file_parses_fast_with_one_bad_record(
    faq_file: Path, records: list[dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    assert len(records) == 5898
    text = faq_file.read_text(encoding="utf-8")
    started = time.process_time()
    with caplog.at_level(logging.WARNING, logger="ingest.jsonl"):
        passages = parse_jsonl(faq_file, text, None)
    # markdown-it-py reads the ~3,900 answers with markup: ~3 s of CPU on the shared 2-core test machine
    # (the regex converter it replaced: ~1.4 s); a parse that grew with the file would take minutes.
    assert time.process_time() - started < 5.0
    # One record's answer is only an image: nothing to show, so it is skipped and reported.
    assert len(passages) == 5897
    assert "skipped 1 bad line(s), first line 5360: answer has no text" in caplog.text
    assert passages[0].title == records[0]["question"]
    assert passages[0].source == records[0]["source"]  # `source` is accepted for `url`
    assert passages[0].topic == records[0]["topic"]


def test_duplicates_are_merged_by_parse_paths(result: ParseResult, records: list[dict[str, str]]) -> None:
    assert result.skipped == []
    assert len(result.passages) + result.duplicates_merged == 5897
    exact_repeats = sum(n - 1 for n in Counter((r["question"], r["answer"]) for r in records).values())
    assert result.duplicates_merged >= exact_repeats > 0
    assert len({p.id for p in result.passages}) == len(result.passages)
    assert any(p.extra_sources for p in result.passages)
    assert all(p.kind == "faq" and p.title and p.answer for p in result.passages)
    assert Counter(p.lang for p in result.passages)["zh"] > 4500


def test_markdown_in_answers_becomes_text_and_links(result: ParseResult) -> None:
    https = next(p for p in result.passages if p.title == "CDN 是否支持 HTTPS 配置？")
    assert "前往 证书管理控制台 申请" in https.answer
    assert https.links == ("https://console.cloud.tencent.com/ssl",)
    init = next(p for p in result.passages if "idleThreshold" in p.answer and "init 接口" in p.answer)
    assert "https://intl.cloud.tencent.com/document/product/1158/49627#tcgsdk.init(params)" in init.links
    for passage in result.passages:
        assert "](http" not in passage.answer and "(id:" not in passage.answer
        assert all(link.startswith(("http://", "https://")) and " " not in link for link in passage.links)


def write(tmp_path: Path, lines: list[str], name: str = "faq.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = {
    "question": "如何退订？",
    "answer": "在[控制台](https://console.example.com/refund)退订。",
    "topic": "计费",
    "url": "https://help.example.com/refund",
}


def test_fields_and_url_preferred_over_source(tmp_path: Path) -> None:
    record = {**GOOD, "source": "docs/refund.md"}
    path = write(tmp_path, [json.dumps(record, ensure_ascii=False)])
    [passage] = parse_jsonl(path, path.read_text(encoding="utf-8"), None)
    assert passage == Passage.create(
        title="如何退订？", answer="在控制台退订。", topic="计费", source="https://help.example.com/refund",
        kind="faq", links=["https://console.example.com/refund"],
    )
    assert passage.id == passage_id("如何退订？", "在控制台退订。")


def test_topic_and_source_are_optional(tmp_path: Path) -> None:
    path = write(tmp_path, ['{"question": "What is a voucher?", "answer": "A credit for orders.", "topic": null}'])
    [passage] = parse_jsonl(path, path.read_text(encoding="utf-8"), None)
    assert passage.topic == "" and passage.source == str(path) and passage.lang == "en"


BAD_LINES = [
    ("{not json", "invalid JSON"),
    ('["a list"]', "not a JSON object (got list)"),
    ('"a string"', "not a JSON object (got str)"),
    ('{"answer": "no question"}', "missing 'question'"),
    ('{"question": "   ", "answer": "blank question"}', "empty 'question'"),
    ('{"question": "q?", "answer": ""}', "empty 'answer'"),
    ('{"question": 42, "answer": "a"}', "'question' is int, not a string"),
    ('{"question": "q?", "answer": ["a"]}', "'answer' is list, not a string"),
    ('{"question": "q?", "answer": "a", "topic": ["x"]}', "'topic' is list, not a string"),
    ('{"question": "q?", "answer": "a", "url": 7}', "'url' is int, not a string"),
    ('{"question": "q?", "answer": "![](https://img.example.com/x.png)"}', "answer has no text"),
    ("[" * 100_000, "invalid JSON"),
]


@pytest.mark.parametrize(("line", "problem"), BAD_LINES)
def test_bad_lines_are_skipped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, line: str, problem: str
) -> None:
    path = write(tmp_path, [json.dumps(GOOD, ensure_ascii=False), "", line, json.dumps(GOOD, ensure_ascii=False)])
    with caplog.at_level(logging.WARNING, logger="ingest.jsonl"):
        passages = parse_jsonl(path, path.read_text(encoding="utf-8"), None)
    assert len(passages) == 2
    assert f"skipped 1 bad line(s), first line 3: {problem}" in caplog.text


@pytest.mark.parametrize(("line", "problem"), BAD_LINES)
def test_no_usable_line_is_an_error_naming_the_first_problem(tmp_path: Path, line: str, problem: str) -> None:
    path = write(tmp_path, ["", line, '{"question": "q"}'])
    with pytest.raises(ParseError, match=r"no usable records \(line 2: ") as raised:
        parse_jsonl(path, path.read_text(encoding="utf-8"), None)
    assert problem in str(raised.value)


def test_registry_reports_an_unusable_file(tmp_path: Path) -> None:
    path = write(tmp_path, ["{broken", "[]"], name="faq.ndjson")
    result = parse_paths([path])
    assert result.passages == []
    [skipped] = result.skipped
    assert skipped.reason.startswith("no usable records (line 1: invalid JSON")
