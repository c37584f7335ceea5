"""docs/haystack.md's code runs as written: a Haystack user's pipeline around the FAQ component."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT

DOC = PROJECT / "docs" / "haystack.md"
PYTHON_BLOCK_RE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_documented_pipeline_runs(corpus_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = PYTHON_BLOCK_RE.findall(DOC.read_text(encoding="utf-8"))
    assert len(blocks) == 2  # the user's pipeline, the YAML round trip
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "index").symlink_to(corpus_index)  # the page uses the served index, var/index
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "haystack_doc"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    prompt = str(namespace["prompt"])
    assert "机会点/PO验证时效? (共享给华为(PO))" in prompt
    assert "10个工作日" in prompt
    assert prompt.endswith("Question: PO提交后多久能验证完")
    assert namespace["ticket"] == ""
    assert "retrieval.components.FAQRetriever" in str(namespace["yaml"])
    assert namespace["loaded"].dumps() == namespace["yaml"]  # type: ignore[attr-defined]
