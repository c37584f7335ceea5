"""In-process latency: `Retriever.ask` and `Retriever.search` next to raw query embedding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eval.bench.stats import Latency, cycle, paired, summarize, timed
from retrieval.retriever import Retriever


@dataclass(frozen=True, slots=True)
class InProcessLatency:
    """Raw query embedding, ask and search in this process, and ask minus embedding, paired per question."""

    embed: Latency
    ask: Latency
    search: Latency
    paired_ask_minus_embed_ms: float


def bench_inprocess(retriever: Retriever, questions: Sequence[str], n: int, warmup: int = 3) -> InProcessLatency:
    """Raw query embedding, `Retriever.ask` and `Retriever.search`, interleaved question by question
    (the embedding alternately before and after the ask, so neither always follows the other)."""
    embed, ask, search = [], [], []
    for i, q in enumerate(cycle(questions, n + warmup)):
        if i % 2 == 0:
            e, _ = timed(lambda q=q: retriever.embedder.embed_queries([q]))
            a, _ = timed(lambda q=q: retriever.ask(q))
        else:
            a, _ = timed(lambda q=q: retriever.ask(q))
            e, _ = timed(lambda q=q: retriever.embedder.embed_queries([q]))
        s, _ = timed(lambda q=q: retriever.search(q))
        if i >= warmup:
            embed.append(e)
            ask.append(a)
            search.append(s)
    return InProcessLatency(summarize(embed), summarize(ask), summarize(search), paired(ask, embed))
