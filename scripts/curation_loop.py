"""Measure the maintainer loop on a question set: replay it, queue what went wrong, accept the suggested groups
as alternates, rebuild. Then run `faq eval` with FAQ_CURATION_DIR pointing at the folder this wrote.

    python scripts/curation_loop.py eval/questions/dev.jsonl --out var/loop

What each replayed question leaves, as it would in production: every question is logged; a refusal is
queued by the service itself; a wrong answer is queued by the user's thumbs-down. The maintainer's
judgement is simulated with the question set's labels: for each group the console shows, they choose the
entry most of its questions belong to, untick the questions that belong elsewhere, leave follow-ups
(they only make sense after their history) and questions with no answer in the knowledge base alone.
This measures the loop on the questions it was fed, not how well it generalises to unseen ones.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections import Counter
from pathlib import Path

from eval.runner import RelevanceJudge
from index.embedders import make_embedder
from index.pipeline import run_ingest
from retrieval.loading import load_retriever, make_calibrator
from retrieval.questions import load_questions
from service.core.config import Settings
from service.curation_files import add_alternates
from service.queue import QuestionQueue
from service.review import QueueReview

PASSES = 5  # review → accept rounds: questions unticked in one round form their own groups in the next


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--out", type=Path, default=Path("var/loop"))
    args = parser.parse_args()
    out: Path = args.out
    shutil.rmtree(out, ignore_errors=True)
    curation, index = out / "curation", out / "index"
    settings = Settings(index_dir=index, curation_dir=curation, queue_db=out / "queue.sqlite3")
    embedder = make_embedder(settings.embedder)
    calibrate = make_calibrator(settings, embedder)  # as `faq ingest` builds: self-calibrated
    run_ingest([settings.corpus_dir], index, embedder, calibrate=calibrate, curation=curation)
    retriever = load_retriever(settings, embedder=embedder)
    queue = QuestionQueue(settings.queue_db, review_below=settings.review_below)
    judge = RelevanceJudge(retriever.index.passages)
    questions = load_questions(args.questions)
    right_of: dict[str, frozenset[str]] = {}
    outcome: Counter[str] = Counter()
    for question in questions:
        result = retriever.ask(question.question, list(question.history) or None)
        right = judge.relevant(question)
        right_of[question.question] = right
        queue.record_ask(question.question, result, retriever.index.build_id)
        if result.answered and result.citations[0].passage_id not in right:
            cited = retriever.index.passage(result.citations[0].passage_id)
            queue.record_feedback(question.question, cited.id, cited.title, cited.answer, helpful=False,
                                  build_id=retriever.index.build_id)
            outcome["answered wrong (thumbs-down)"] += 1
        elif not result.answered:
            outcome["refused, answerable" if right else "refused, rightly"] += 1
        else:
            outcome["answered right"] += 1

    queued = len(queue.open_records())
    review = QueueReview(queue, settings.cluster_similarity, settings.close_margin)
    accepted: list[dict[str, object]] = []
    for _ in range(PASSES):
        records = queue.open_records()
        followups = {r.question for r in records if r.used_history}
        groups = review(retriever).clusters
        changed = False
        for cluster in groups:
            members = [v.question for v in cluster.variants if v.question not in followups]
            votes = Counter(entry for q in members for entry in right_of.get(q, ()))
            if not votes:
                continue  # no answer in the knowledge base (or only follow-ups): left in the queue
            entry = votes.most_common(1)[0][0]
            chosen = [q for q in members if entry in right_of.get(q, ())]
            added = add_alternates(curation, entry, chosen)
            queue.resolve(chosen, f"alternates of {entry}")
            accepted.append({"group": cluster.question, "size": len(cluster.variants), "entry": entry,
                             "title": retriever.index.passage(entry).title, "accepted": len(chosen),
                             "added": len(added)})
            changed = changed or bool(chosen)
        if not changed:
            break
    report = run_ingest([settings.corpus_dir], index, embedder, calibrate=calibrate, curation=curation)
    summary = {
        "questions": len(questions),
        "replay": dict(outcome),
        "queued_records": queued,
        "groups_accepted": len(accepted),
        "alternates_written": sum(int(a["added"]) for a in accepted),
        "left_in_queue": len(queue.open_records()),
        "rebuild": {"passages": report.build.passages, "vectors": report.build.vectors,
                    "embedded": report.build.embedded, "curation_problems": [str(p) for p in report.curation_problems]},
        "accepted": accepted,
    }
    (out / "loop.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), "utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "accepted"}, ensure_ascii=False, indent=2))
    print(f"now: FAQ_CURATION_DIR={curation} faq eval {args.questions} --config default")


if __name__ == "__main__":
    main()
