"""The ingestion pipeline as Haystack components: plain init values, lazy model loading, a YAML round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from haystack.core.errors import DeserializationError

from index.components import IndexBuilder
from index.embedders import Embedder, UnknownEmbedderError
from index.index_dir import LoadedBuild
from index.pipeline import ingest_pipeline, load_ingest_pipeline, run_ingest
from ingest.components import CurationApplier, PassageParser
from ingest.passage import Passage

RECORDS = [
    {"question": "如何申请代金券？", "answer": "在[控制台](https://console.example.com/v)申请。", "topic": "计费"},
    {"question": "代金券多久过期？", "answer": "自发放起 **90 天**内有效。", "topic": "计费"},
    {"question": "How do I renew?", "answer": "Open *Renewal* in the console.", "topic": "Billing"},
]


@pytest.fixture
def faq(tmp_path: Path) -> Path:
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\n", encoding="utf-8")
    return path


def test_components_serialise_to_plain_values() -> None:
    builder = IndexBuilder("/srv/faq/index", "use")
    assert builder.to_dict() == {
        "type": "index.components.IndexBuilder",
        "init_parameters": {"index_dir": "/srv/faq/index", "embedder": "use"},
    }
    assert IndexBuilder.from_dict(builder.to_dict()).to_dict() == builder.to_dict()
    assert PassageParser().to_dict() == {"type": "ingest.components.PassageParser", "init_parameters": {"exclude": []}}
    assert PassageParser(["/srv/curation"]).to_dict()["init_parameters"] == {"exclude": ["/srv/curation"]}
    assert CurationApplier("/srv/curation").to_dict() == {"type": "ingest.components.CurationApplier",
                                                          "init_parameters": {"folder": "/srv/curation"}}
    assert CurationApplier.from_dict(CurationApplier("/srv/c").to_dict()).folder == "/srv/c"
    assert isinstance(PassageParser.from_dict(PassageParser().to_dict()), PassageParser)


def test_the_embedder_is_loaded_by_warm_up_not_by_the_constructor(tmp_path: Path) -> None:
    builder = IndexBuilder(str(tmp_path), "no-such-embedder")  # nothing is loaded yet, so nothing fails
    with pytest.raises(RuntimeError, match="warm_up"):
        builder.run([Passage.create(title="如何续费？", answer="在控制台续费。", topic="", source="t", kind="faq")])
    with pytest.raises(UnknownEmbedderError):
        builder.warm_up()


def test_a_loaded_embedder_must_be_the_configured_one(tmp_path: Path, embedder: Embedder) -> None:
    with pytest.raises(ValueError, match="configured for 'use'"):
        IndexBuilder(str(tmp_path), "use").use_embedder(embedder)


def test_yaml_round_trip_builds_the_same_index(tmp_path: Path, faq: Path, embedder: Embedder) -> None:
    direct_dir, loaded_dir = tmp_path / "direct", tmp_path / "loaded"
    yaml = ingest_pipeline(str(loaded_dir), embedder.name, str(tmp_path / "no-curation")).dumps()
    assert "index.components.IndexBuilder" in yaml and str(loaded_dir) in yaml
    loaded = load_ingest_pipeline(yaml)
    assert loaded.dumps() == yaml
    loaded_out = loaded.run({"parser": {"paths": [str(faq)]}})  # warm_up loads the embedder by its name
    direct = run_ingest([faq], direct_dir, embedder)
    assert loaded_out["builder"]["report"].passages == direct.build.passages == len(RECORDS)
    a = LoadedBuild.open(direct_dir, embedder=embedder.name, dim=embedder.dim)
    b = LoadedBuild.open(loaded_dir, embedder=embedder.name, dim=embedder.dim)
    assert a.passages == b.passages
    assert a.manifest.corpus_hash == b.manifest.corpus_hash
    rows = range(len(RECORDS))
    vectors_a, vectors_b = a.passage_vectors(embedder.name, rows), b.passage_vectors(embedder.name, rows)
    np.testing.assert_array_equal(vectors_a.field, vectors_b.field)
    np.testing.assert_allclose(vectors_a.vectors, vectors_b.vectors, atol=1e-5)


def test_yaml_naming_a_foreign_class_is_refused() -> None:
    yaml = ingest_pipeline("/tmp/index").dumps().replace("index.components.IndexBuilder", "subprocess.Popen")
    with pytest.raises(DeserializationError, match="allowlist"):
        load_ingest_pipeline(yaml)
