"""The maintainers' view of the queue: questions grouped by meaning, with the entry each group came closest
to, and active-learning suggestions (close calls between two entries, entries that collect thumbs-down)."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from retrieval.retriever import Retriever
from service.queue import THUMBS_DOWN, QuestionQueue, QueueRecord

EMBED_BATCH = 32
EXPLAINED_CLUSTERS = 100  # the biggest groups get a fresh hit test against the build serving


@dataclass(frozen=True, slots=True)
class EntryRef:
    """An entry of the build serving."""

    passage_id: str
    title: str


@dataclass(frozen=True, slots=True)
class Variant:
    """One wording of a group's question and how often it was queued."""

    question: str
    count: int


@dataclass(slots=True)
class Cluster:
    """Queued questions that mean the same thing; `question` is the most frequent wording."""

    id: str
    question: str
    count: int
    variants: list[Variant]
    kinds: dict[str, int]
    used_history: int
    last_seen: str
    recorded_entries: list[str]  # the entries the service came closest to when the questions were asked
    closest: EntryRef | None = None
    runner_up: EntryRef | None = None
    margin: float | None = None  # top score minus runner-up score, in the build serving
    confidence: float | None = None

    @property
    def swapped(self) -> bool:
        """The group's questions went to different entries."""
        return len(self.recorded_entries) > 1


@dataclass(frozen=True, slots=True)
class Disliked:
    """An entry that collected thumbs-down, with the questions it was given for."""

    entry: EntryRef
    count: int
    questions: list[str]


@dataclass(frozen=True, slots=True)
class Review:
    """The queue grouped, with its active-learning suggestions."""

    clusters: list[Cluster]
    close_calls: list[Cluster] = field(default_factory=list)
    disliked: list[Disliked] = field(default_factory=list)


def group_by_meaning(vectors: np.ndarray, similarity: float) -> list[list[int]]:
    """Greedy grouping of unit vectors (rows in priority order): each row joins the most similar group
    leader at `similarity` (cosine) or more, or leads a new group."""
    groups: list[list[int]] = []
    leaders: list[np.ndarray] = []
    for row, vector in enumerate(vectors):
        if leaders:
            cosines = np.stack(leaders) @ vector
            best = int(np.argmax(cosines))
            if cosines[best] >= similarity:
                groups[best].append(row)
                continue
        groups.append([row])
        leaders.append(vector)
    return groups


class QueueReview:
    """Builds the `Review` of a queue with the retriever serving (its embedder groups, its ranking explains)."""

    def __init__(self, queue: QuestionQueue, similarity: float = 0.93, close_margin: float = 0.02) -> None:
        self.queue = queue
        self.similarity = similarity
        self.close_margin = close_margin

    def __call__(self, retriever: Retriever) -> Review:
        """Group the open records by meaning and add the suggestions."""
        records = self.queue.open_records()
        clusters = self._clusters(records, retriever)
        for cluster in clusters[:EXPLAINED_CLUSTERS]:
            self._explain(cluster, retriever)
        close = [c for c in clusters if c.swapped or (c.margin is not None and c.margin < self.close_margin)]
        return Review(clusters, close, self._disliked(records, retriever))

    def group(self, counts: dict[str, int], retriever: Retriever) -> list[list[str]]:
        """Questions (with how often each was asked) grouped by meaning, biggest group first; in each group
        the most frequent wording first."""
        questions = sorted(counts, key=lambda q: (-counts[q], q))
        if not questions:
            return []
        groups = [[questions[i] for i in group]
                  for group in group_by_meaning(self._vectors(questions, retriever), self.similarity)]
        return sorted(groups, key=lambda group: (-sum(counts[q] for q in group), group[0]))

    def _clusters(self, records: list[QueueRecord], retriever: Retriever) -> list[Cluster]:
        counts = Counter(record.question for record in records)
        by_question: dict[str, list[QueueRecord]] = defaultdict(list)
        for record in records:
            by_question[record.question].append(record)
        clusters = []
        for members in self.group(counts, retriever):
            mine = [record for question in members for record in by_question[question]]
            entries = Counter(r.closest_id for r in mine if r.closest_id)
            clusters.append(Cluster(
                id=hashlib.sha1(members[0].encode("utf-8")).hexdigest()[:12],
                question=members[0],
                count=len(mine),
                variants=[Variant(question, counts[question]) for question in members],
                kinds=dict(Counter(r.kind for r in mine)),
                used_history=sum(r.used_history for r in mine),
                last_seen=max(r.time for r in mine),
                recorded_entries=[entry for entry, _ in entries.most_common()],
            ))
        clusters.sort(key=lambda c: (-c.count, c.question))
        return clusters

    def _vectors(self, questions: list[str], retriever: Retriever) -> np.ndarray:
        space = retriever.embedder.name
        cached = self.queue.vectors(space, questions)
        missing = [q for q in questions if q not in cached]
        fresh: dict[str, np.ndarray] = {}
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start:start + EMBED_BATCH]
            fresh.update(zip(batch, retriever.embedder.embed_queries(batch), strict=True))
        if fresh:
            self.queue.store_vectors(space, fresh)
        return np.stack([cached.get(q, fresh.get(q)) for q in questions]).astype(np.float32)

    @staticmethod
    def _explain(cluster: Cluster, retriever: Retriever) -> None:
        explanation = retriever.explain(cluster.question)
        candidates = explanation.candidates
        cluster.confidence = explanation.result.confidence
        if candidates:
            cluster.closest = EntryRef(candidates[0].passage_id, candidates[0].title)
        if len(candidates) > 1:
            cluster.runner_up = EntryRef(candidates[1].passage_id, candidates[1].title)
            cluster.margin = candidates[0].score - candidates[1].score

    @staticmethod
    def _disliked(records: list[QueueRecord], retriever: Retriever) -> list[Disliked]:
        questions: dict[str, list[str]] = defaultdict(list)
        for record in records:
            if record.kind == THUMBS_DOWN and record.closest_id:
                questions[record.closest_id].append(record.question)
        disliked = []
        for passage_id, asked in sorted(questions.items(), key=lambda item: (-len(item[1]), item[0])):
            passage = retriever.index.passage(passage_id)
            title = passage.title if passage is not None else "(no longer in the index)"
            disliked.append(Disliked(EntryRef(passage_id, title), len(asked), list(dict.fromkeys(asked))))
        return disliked
