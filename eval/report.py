"""Reports of an evaluation run: terminal table (rich), results.json, report.md and PNG plots."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table

from eval.metrics import K, MetricValue
from eval.runner import ConfigRun, EvalRun
from retrieval.abstention.threshold import AnswerThreshold

# (metric key, short column label)
COLUMNS = (
    ("recall@1", "R@1"),
    ("recall@3", "R@3"),
    ("recall@10", "R@10"),
    ("mrr@10", "MRR@10"),
    ("ndcg@10", "nDCG@10"),
    ("abstention_precision", "answered P"),
    ("abstention_recall", "right/answerable"),
    ("coverage", "coverage"),
    ("refusal_rate", "refusal"),
    ("answered_correctly", "handled right"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
)
RECALL_PLOT = "recall_at_k.png"
CONFIDENCE_PLOT = "confidence.png"
PRECISION_COVERAGE_PLOT = "precision_coverage.png"


def _fmt(value: MetricValue, key: str = "") -> str:
    if value is None:
        return "–"
    if key.startswith("latency"):
        return f"{value:.1f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _figure(height: float = 4.5) -> tuple[Figure, Axes]:
    """A figure on its own Agg canvas: no pyplot, no global backend state."""
    fig = Figure(figsize=(7, height))
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _abstaining(run: EvalRun) -> ConfigRun | None:
    """The first configuration that ran with calibrated abstention (normally `default`)."""
    return next((c for c in run.configs if c.available and c.threshold is not None), None)


# ---- terminal ----------------------------------------------------------------------------------


def print_summary(run: EvalRun, console: Console) -> None:
    """Configurations as rows, the key metrics as columns; then answered-correctly per kind."""
    table = Table(title=f"{run.questions_file.name}: {len(run.questions)} questions, {run.passages} passages")
    table.add_column("config")
    for _, label in COLUMNS:
        table.add_column(label, justify="right")
    for config in run.configs:
        if config.available:
            table.add_row(config.plan.name, *(_fmt(config.overall.get(key), key) for key, _ in COLUMNS))
        else:
            table.add_row(config.plan.name, f"[yellow]unavailable[/yellow]: {config.error}")
    console.print(table)
    ran = [c for c in run.configs if c.available]
    kinds = list(ran[0].kinds) if ran else []
    if len(kinds) > 1:
        by_kind = Table(title="handled right (R@1 in brackets) per kind")
        by_kind.add_column("config")
        for kind in kinds:
            by_kind.add_column(f"{kind} ({ran[0].kinds[kind]['questions']})", justify="right")
        for config in ran:
            by_kind.add_row(config.plan.name, *(
                f"{_fmt(config.kinds[k]['answered_correctly'])} ({_fmt(config.kinds[k]['recall@1'])})" for k in kinds
            ))
        console.print(by_kind)


# ---- results.json ------------------------------------------------------------------------------


def results_dict(run: EvalRun, with_records: bool = True) -> dict[str, Any]:
    """All metrics, and optionally the per-question records, as one JSON-ready dict."""
    answerable = [q.answerable for q in run.questions]
    unmatched = [q.question for q, n in zip(run.questions, run.relevant_counts, strict=True)
                 if q.answerable and n == 0]
    data: dict[str, Any] = {
        "command": run.command,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "questions_file": str(run.questions_file),
        "corpus": [str(p) for p in run.corpus],
        "passages": run.passages,
        "questions": len(run.questions),
        "questions_in_file": run.total_questions,
        "answerable": sum(answerable),
        "checks": {
            "answerable_matching_no_passage": len(unmatched),
            "answerable_matching_several_passages": sum(1 for n in run.relevant_counts if n > 1),
            "examples_matching_no_passage": unmatched[:10],
        },
        "configs": {
            c.plan.name: {
                "available": c.available,
                "error": c.error,
                "embedder": c.plan.embedder,
                "threshold": c.threshold,
                "threshold_by_language": c.threshold_by_language,
                "overall": c.overall,
                "by_kind": c.kinds,
                "recall_at_k": c.curve,
            }
            for c in run.configs
        },
    }
    if with_records:
        data["records"] = [
            {
                "question": q.question,
                "kind": q.kind,
                "expected": list(q.expected) if q.expected is not None else None,
                **({"history": [h[0] for h in q.history]} if q.history else {}),
                "relevant_passages": n,
                "results": {c.plan.name: c.records[i] for c in run.configs if c.available},
            }
            for i, (q, n) in enumerate(zip(run.questions, run.relevant_counts, strict=True))
        ]
    return data


def write_json(run: EvalRun, path: Path, with_records: bool = True) -> None:
    """Write `results_dict` as JSON."""
    path.write_text(json.dumps(results_dict(run, with_records), ensure_ascii=False, indent=1), "utf-8")


# ---- plots -------------------------------------------------------------------------------------


def plot_recall(run: EvalRun, path: Path) -> bool:
    """Recall@k curves, k = 1..K, one line per configuration; False when there is nothing to plot."""
    curves = [(c.plan.name, c.curve) for c in run.configs if c.available and c.curve and c.curve[0] is not None]
    if not curves:
        return False
    fig, ax = _figure()
    ks = list(range(1, K + 1))
    for name, curve in curves:
        ax.plot(ks, curve, marker="o", markersize=3, label=name)
    ax.set_xlabel("k")
    ax.set_ylabel("Recall@k")
    ax.set_xticks(ks)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(f"Recall@k on {run.questions_file.name} (answerable questions)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def confidence_groups(config: ConfigRun) -> dict[str, list[float]]:
    """Confidences of questions it should answer (right passage on top) and of those it should not."""
    groups: dict[str, list[float]] = {"right passage on top": [], "answerable, wrong passage on top": [],
                                      "should be refused": []}
    for outcome, record in zip(config.outcomes, config.records, strict=True):
        if record["confidence"] is None:
            continue
        if not outcome.answerable:
            groups["should be refused"].append(record["confidence"])
        elif outcome.top_correct:
            groups["right passage on top"].append(record["confidence"])
        else:
            groups["answerable, wrong passage on top"].append(record["confidence"])
    return groups


def plot_confidence(run: EvalRun, path: Path) -> bool:
    """Confidence histograms of the abstaining configuration with its threshold; False when none ran."""
    config = _abstaining(run)
    if config is None:
        return False
    fig, ax = _figure(5.2)
    bins = [i / 25 for i in range(26)]
    for (label, values), color in zip(confidence_groups(config).items(), ("tab:green", "tab:orange", "tab:red"),
                                      strict=True):
        if values:
            ax.hist(values, bins=bins, histtype="stepfilled", alpha=0.45, color=color,
                    label=f"{label} ({len(values)})")
    ax.axvline(config.threshold, color="black", linestyle="--", label=f"threshold {_threshold_text(config)}")
    ax.set_xlabel("confidence")
    ax.set_ylabel("questions")
    ax.set_xlim(0, 1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize="small")
    ax.set_title(f"{config.plan.name}: confidence on {run.questions_file.name}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def precision_coverage_curve(config: ConfigRun) -> tuple[list[float], list[float]]:
    """Answered precision and coverage at every threshold the configuration's confidences allow."""
    pairs = [(record["confidence"], outcome.answerable and outcome.top_correct)
             for outcome, record in zip(config.outcomes, config.records, strict=True)
             if record["confidence"] is not None]
    pairs.sort(key=lambda pair: -pair[0])
    precision, coverage, right = [], [], 0
    for answered, (_, correct) in enumerate(pairs, start=1):
        right += int(correct)
        precision.append(right / answered)
        coverage.append(answered / len(config.outcomes))
    return precision, coverage


def plot_precision_coverage(run: EvalRun, path: Path) -> bool:
    """Answered precision against coverage as the threshold moves, the operating point marked."""
    config = _abstaining(run)
    if config is None:
        return False
    precision, coverage = precision_coverage_curve(config)
    if not precision:
        return False
    fig, ax = _figure(4.8)
    ax.plot(coverage, precision, color="tab:blue", label="every threshold")
    point = (config.overall.get("coverage"), config.overall.get("abstention_precision"))
    if all(isinstance(v, float) for v in point):
        ax.scatter([point[0]], [point[1]], color="black", zorder=3,
                   label=f"threshold {_threshold_text(config)}: precision {point[1]:.3f}, coverage {point[0]:.3f}")
    ax.axhline(0.95, color="tab:red", linestyle=":", label="precision 0.95")
    ax.set_xlabel("coverage (answers given ÷ questions)")
    ax.set_ylabel("answered precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left", fontsize="small")
    ax.set_title(f"{config.plan.name}: precision–coverage on {run.questions_file.name}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


# ---- report.md ---------------------------------------------------------------------------------


def _table(rows: list[tuple[str, dict[str, MetricValue]]]) -> list[str]:
    lines = ["| config | " + " | ".join(label for _, label in COLUMNS) + " |",
             "|---|" + "---:|" * len(COLUMNS)]
    lines += [f"| {name} | " + " | ".join(_fmt(m.get(key), key) for key, _ in COLUMNS) + " |" for name, m in rows]
    return lines


def markdown(run: EvalRun, plots: dict[str, bool]) -> str:
    """The Markdown report: command, data, overall and per-kind tables, plots, definitions."""
    data = results_dict(run, with_records=False)
    checks = data["checks"]
    sample = (f" (a fixed random sample of the file's {run.total_questions})"
              if len(run.questions) < run.total_questions else "")
    lines = [
        f"# Evaluation: {run.questions_file.name}",
        "",
        "```",
        run.command,
        "```",
        "",
        f"- Questions: {data['questions']}{sample} from `{run.questions_file}`: {data['answerable']} answerable, "
        f"{data['questions'] - data['answerable']} to be refused.",
        f"- Corpus: {', '.join(f'`{p}`' for p in run.corpus)}, {run.passages} passages.",
        f"- Checks: {checks['answerable_matching_no_passage']} answerable questions match no passage; "
        f"{checks['answerable_matching_several_passages']} match more than one.",
        f"- Generated {data['generated_at']}.",
        "",
        "## Overall",
        "",
        *_table([(c.plan.name, c.overall) for c in run.configs if c.available]),
        "",
    ]
    lines += [f"- **{c.plan.name}** unavailable: {c.error}" for c in run.configs if not c.available]
    ran = [c for c in run.configs if c.available]
    if ran and len(ran[0].kinds) > 1:
        lines += ["", "## By kind", ""]
        for kind, summary in ran[0].kinds.items():
            lines += [f"### {kind} ({summary['questions']} questions, {summary['answerable']} answerable)", "",
                      *_table([(c.plan.name, c.kinds[kind]) for c in ran]), ""]
    if plots.get(RECALL_PLOT):
        lines += ["## Recall@k", "", f"![Recall@k per configuration]({RECALL_PLOT})", ""]
    abstaining = _abstaining(run)
    if plots.get(CONFIDENCE_PLOT) and abstaining is not None:
        lines += [f"## Confidence of `{abstaining.plan.name}`", "",
                  f"![confidence distributions]({CONFIDENCE_PLOT})", "",
                  f"Threshold {_threshold_text(abstaining)}: questions at or above it (the one of their "
                  "language, where the build has one) are answered.", ""]
    if plots.get(PRECISION_COVERAGE_PLOT) and abstaining is not None:
        lines += [f"## Precision–coverage of `{abstaining.plan.name}`", "",
                  f"![answered precision against coverage]({PRECISION_COVERAGE_PLOT})", ""]
    lines += [
        "## Definitions",
        "",
        "- A passage is right when `retrieval.questions.is_match` accepts it for the question's `expected` strings.",
        "- R@k, MRR@10, nDCG@10 (binary relevance): over answerable questions, on the ranked passages "
        "(Haystack's document evaluators).",
        "- answered P (answered precision): right answers ÷ answers given; right/answerable: of the "
        "answerable questions, the share answered with a right passage; coverage: answers given ÷ questions; "
        "refusal: share of the questions to be refused that were refused. Configurations without abstention "
        "always answer with their top passage.",
        "- handled right: answerable questions answered with a right passage plus questions to be refused "
        "that were refused, over all questions.",
        "- p50/p95: wall-clock time of one `ask` (default) or `rank` call.",
        "",
    ]
    return "\n".join(lines)


def write_reports(run: EvalRun, out: Path) -> dict[str, Path]:
    """Write results.json, the plots and report.md into `out`; the paths written by name."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in (RECALL_PLOT, CONFIDENCE_PLOT, PRECISION_COVERAGE_PLOT):
        (out / stale).unlink(missing_ok=True)
    plots = {RECALL_PLOT: plot_recall(run, out / RECALL_PLOT),
             CONFIDENCE_PLOT: plot_confidence(run, out / CONFIDENCE_PLOT),
             PRECISION_COVERAGE_PLOT: plot_precision_coverage(run, out / PRECISION_COVERAGE_PLOT)}
    write_json(run, out / "results.json")
    (out / "report.md").write_text(markdown(run, plots), "utf-8")
    written = {"results.json": out / "results.json", "report.md": out / "report.md"}
    written |= {name: out / name for name, made in plots.items() if made}
    return written


def _threshold_text(config: ConfigRun) -> str:
    return AnswerThreshold(config.threshold or 0.0, config.threshold_by_language).describe()
