"""Curation files: every unusable line reported with file and line, the rest used; never parsed as pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.curation import apply_curation, load_curation
from ingest.passage import Passage
from ingest.registry import parse_paths


def faq(title: str, answer: str) -> Passage:
    return Passage.create(title=title, answer=answer, topic="T", source="corpus.txt", kind="faq")


PO = faq("机会点/PO验证时效?", "机会点验证SLA为10个工作日。")
TWIN_A, TWIN_B = faq("如何报销?", "在伙伴中心提交。"), faq("如何报销?", "联系财务。")


def write(folder: Path, name: str, lines: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n", "utf-8")


def jsonl(*records: object) -> list[str]:
    return [json.dumps(r, ensure_ascii=False) for r in records]


def test_every_bad_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "alternates.jsonl", [
        *jsonl({"entry": PO.id, "question": "商机审核要几天"}),
        "not json",
        *jsonl(["a list"], {"entry": "", "question": "x"}, {"entry": PO.id}),
        *jsonl({"entry": "没有这个条目", "question": "x"}, {"entry": "如何报销?", "question": "报销流程"}),
    ])
    write(tmp_path, "synonyms.txt", ["# comment", "商机 机会点", "PO，机会点、商机", "孤单", ""])
    write(tmp_path, "dictionary.txt", ["伙伴大会 10 n", "CloudPSM", "华为云 nz", "两个 词 5", "code 12 NZ"])
    write(tmp_path, "entries.jsonl", [
        *jsonl({"question": "伙伴大会报名截止是哪天?", "answer": "每年3月31日截止。", "topic": "活动"}),
        *jsonl({"question": 1, "answer": "x"}, {"question": "只有问题"}),
    ])
    curation = load_curation(tmp_path)
    passages, unresolved = apply_curation([PO, TWIN_A, TWIN_B], curation)

    problems = [str(p) for p in (*curation.problems, *unresolved)]
    assert [p.split(": ", 1)[0] for p in problems] == [
        "alternates.jsonl:2", "alternates.jsonl:3", "alternates.jsonl:4", "alternates.jsonl:5",
        "synonyms.txt:4", "dictionary.txt:4", "dictionary.txt:5", "entries.jsonl:2", "entries.jsonl:3",
        "alternates.jsonl:6", "alternates.jsonl:7",
    ]
    assert "invalid JSON" in problems[0] and "no entry with id or title '没有这个条目'" in problems[9]
    assert "names 2 entries: use a passage id" in problems[10]
    assert curation.lexicon.synonyms == (("商机", "机会点"), ("PO", "机会点", "商机"))
    assert curation.lexicon.words == (("伙伴大会", 10, "n"), ("CloudPSM", None, None), ("华为云", None, "nz"))
    by_title = {p.title: p for p in passages}
    assert by_title[PO.title].alternates == ("商机审核要几天",)
    assert by_title[PO.title].id == PO.id and by_title[PO.title].hash == PO.hash  # alternates change neither
    assert by_title["伙伴大会报名截止是哪天?"].topic == "活动"
    assert len(passages) == 4


def test_alternates_of_new_entries_duplicates_and_titles(tmp_path: Path) -> None:
    entry = {"question": "伙伴大会报名截止是哪天?", "answer": "每年3月31日截止。"}
    new_id = Passage.create(title=entry["question"], answer=entry["answer"], topic="", source="x", kind="faq").id
    write(tmp_path, "entries.jsonl", jsonl(entry, {"question": PO.title, "answer": PO.answer}))
    write(tmp_path, "alternates.jsonl", jsonl(
        {"entry": new_id, "question": "大会  报名\u3000截止"}, {"entry": new_id, "question": "大会 报名 截止"},
        {"entry": PO.title, "question": PO.title}, {"entry": PO.title, "question": "PO 多久验证"},
    ))
    passages, unresolved = apply_curation([PO], load_curation(tmp_path))
    assert unresolved == []
    assert [(p.title, p.alternates) for p in passages] == [
        (PO.title, ("PO 多久验证",)), (entry["question"], ("大会 报名 截止",)),  # an entry the corpus has is kept once
    ]


@pytest.mark.parametrize("folder", [None, Path("/nonexistent/curation")])
def test_no_curation_folder_means_no_curation(folder: Path | None) -> None:
    curation = load_curation(folder)
    assert apply_curation([PO], curation) == ([PO], []) and curation.problems == ()


def test_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "synonyms.txt").write_bytes(b"\xff\xfe\x00bad")
    problems = [str(p) for p in load_curation(tmp_path).problems]
    assert len(problems) == 1 and problems[0].startswith("synonyms.txt:0: cannot read the file")


def test_the_curation_folder_is_never_parsed_as_pages(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus, "faq.jsonl", jsonl({"question": "页面问题?", "answer": "页面答案。"}))
    write(corpus / "curation", "entries.jsonl", jsonl({"question": "策展问题?", "answer": "策展答案。"}))
    write(corpus / "curation", "synonyms.txt", ["商机 机会点"])
    # Walked as pages, the synonyms would become a passage of their own:
    assert {p.title for p in parse_paths([corpus]).passages} == {"页面问题?", "策展问题?", "商机 机会点"}
    parsed = parse_paths([corpus], exclude=[corpus / "curation"])
    assert [p.title for p in parsed.passages] == ["页面问题?"] and parsed.files_read == 1 and parsed.skipped == []


def test_passage_round_trip_keeps_alternates() -> None:
    from dataclasses import replace

    passage = replace(PO, alternates=("商机审核要几天", "PO 多久验证"))
    assert Passage.from_dict(json.loads(json.dumps(passage.to_dict()))) == passage
    old = PO.to_dict()
    del old["alternates"]  # a build written before alternates existed still loads
    assert Passage.from_dict(old) == PO
    assert "PO 多久验证" in passage.keyword_text
