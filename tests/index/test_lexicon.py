"""A build's lexicon and alternates: user words and synonyms recorded with the build and used by its queries,
alternate questions as extra title vectors and keyword text, incremental builds keyed by text."""

from __future__ import annotations

import json
from pathlib import Path

import jieba
import numpy as np
import pytest

from index.embedders import Embedder
from index.index_dir import LoadedBuild
from index.pipeline import run_ingest
from index.synonyms import Synonyms
from index.tokenizer import Tokenizer
from index.vector_store import FIELD_TITLE
from tests.index.test_build import CountingEmbedder

RECORDS = [
    {"question": "伙伴大会报名截止是哪天?", "answer": "伙伴大会报名于每年3月31日截止。", "topic": "活动"},
    {"question": "机会点验证要多久?", "answer": "机会点验证SLA为10个工作日。", "topic": "机会点"},
    {"question": "如何申请MDF?", "answer": "在伙伴中心提交MDF申请。", "topic": "激励"},
]


def test_user_words_stay_whole_without_touching_jieba_itself() -> None:
    words = [("CloudPSM-X2", None, None), ("沃土计划", 20000, "n")]
    plain, curated = Tokenizer.for_words(), Tokenizer.for_words(words)
    assert plain.tokenize("CloudPSM-X2型号") == ["cloudpsm", "x2", "型号"]
    assert curated.tokenize("CloudPSM-X2型号") == ["cloudpsm-x2", "型号"]  # words are case-folded like texts
    assert plain.tokenize("沃土计划申请") == ["沃土", "计划", "申请"]
    assert curated.tokenize("沃土计划申请") == ["沃土", "计划", "沃土计划", "申请"]
    assert "沃土计划" not in jieba.lcut("沃土计划申请")  # jieba's global dictionary is not changed
    assert Tokenizer.for_words(list(words)) is curated  # one jieba instance per distinct dictionary


def test_synonyms_add_the_other_terms_of_a_group() -> None:
    tokenizer = Tokenizer.for_words()
    synonyms = Synonyms([("商机", "机会点"), ("PO", "机会点")], tokenizer)
    assert synonyms.expand(tokenizer.tokenize("商机审核")) == ["商机", "审核", "机会", "点"]
    assert synonyms.expand(["po"]) == ["po", "机会", "点"]  # one hop: groups are not chained
    assert synonyms.expand(["发票"]) == ["发票"]


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("lexicon")
    corpus, curation = tmp / "corpus", tmp / "curation"
    corpus.mkdir()
    curation.mkdir()
    (corpus / "faq.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), "utf-8")
    run_ingest([corpus], tmp / "index", embedder)
    (curation / "dictionary.txt").write_text("伙伴大会\n", "utf-8")
    (curation / "synonyms.txt").write_text("商机 机会点\n", "utf-8")
    (curation / "alternates.jsonl").write_text(
        json.dumps({"entry": "伙伴大会报名截止是哪天?", "question": "年度大会几号之前要报名"}, ensure_ascii=False)
        + "\n" + '{"entry": "不存在", "question": "x"}\n', "utf-8")
    return corpus, curation, tmp / "index"


def test_a_curated_build_records_its_lexicon_and_reads_queries_with_it(curated: tuple[Path, Path, Path],
                                                                       embedder: Embedder) -> None:
    corpus, curation, root = curated
    before = LoadedBuild.open(root)
    counting = CountingEmbedder(embedder)
    report = run_ingest([corpus], root, counting, curation=curation)
    assert [str(p) for p in report.curation_problems] == ["alternates.jsonl:2: no entry with id or title '不存在'"]
    assert counting.count == 1  # only the alternate question is new: every other vector is reused
    build = LoadedBuild.open(root)
    assert build.manifest.dictionary == (("伙伴大会", None, None),)
    assert build.manifest.synonyms == (("商机", "机会点"),)
    saved = json.loads((build.path / "manifest.json").read_text("utf-8"))
    assert saved["dictionary"] == [["伙伴大会", None, None]] and saved["synonyms"] == [["商机", "机会点"]]

    assert [p.id for p in build.passages] == [p.id for p in before.passages]  # alternates keep ids
    gala = build.by_id[before.passages[0].id]
    assert build.passages[gala].alternates == ("年度大会几号之前要报名",)
    own = build.passage_vectors(embedder.name, [gala])
    assert int((own.field == FIELD_TITLE).sum()) == 2
    query = embedder.embed_queries(["年度大会几号之前要报名"])[0]
    assert float((own.vectors @ query).max()) == pytest.approx(1.0, abs=1e-3)  # embedded as a query

    assert "伙伴大会" in build.tokenize("伙伴大会报名") and "伙伴大会" not in before.tokenize("伙伴大会报名")
    assert build.with_synonyms(build.tokenize("商机审核")) == ["商机", "审核", "机会", "点"]
    assert before.with_synonyms(before.tokenize("商机审核")) == ["商机", "审核"]
    scores = build.keyword_scores(build.with_synonyms(build.tokenize("商机")))
    assert int(np.argmax(scores)) == 1 and scores[1] > 0 and before.keyword_scores(["商机"]).max() == 0
    alternate = build.with_synonyms(build.tokenize("年度大会"))
    assert build.keyword_scores(alternate)[gala] > 0  # alternates are keyword text too
