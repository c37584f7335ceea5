"""The maintainers' endpoints (bearer token): reload, the unanswered-question queue, curation, rebuild,
hit test, feedback and analytics; and the console page that calls them (`/admin`)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from ingest.errors import ParseError
from service.api.deps import (
    AdminOnly,
    QueueDep,
    RateLimited,
    RetrieverDep,
    ServicesDep,
    SettingsDep,
    check_length,
)
from service.api.routes.pages import STATIC_DIR
from service.api.schemas import (
    AlternatesIn,
    AlternatesOut,
    AskIn,
    ClusterOut,
    EntryIn,
    EntryOut,
    EntryRefOut,
    ErrorOut,
    ExplainOut,
    FeedbackItemOut,
    ManifestOut,
    QueueOut,
    RebuildOut,
)
from service.curation_files import add_alternates, add_entry
from service.rebuild import RebuildRunning
from service.review import Cluster

router = APIRouter(tags=["operations"], dependencies=[RateLimited, AdminOnly],
                   responses={401: {"model": ErrorOut, "description": "Missing or wrong bearer token"},
                              404: {"model": ErrorOut, "description": "No FAQ_ADMIN_TOKEN configured"}})
page_router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
# The console renders user questions: scripts and styles from this origin only, nothing inline.
CONSOLE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@page_router.get("/admin")
async def console(settings: SettingsDep) -> FileResponse:
    """The maintainers' console; it asks for the admin token and sends it with every call (404 when none is set)."""
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        raise HTTPException(404, "Not Found")
    return FileResponse(STATIC_DIR / "admin.html", media_type="text/html; charset=utf-8", headers=CONSOLE_HEADERS)


@router.post(
    "/admin/reload",
    response_model=ManifestOut,
    responses={
        401: {"model": ErrorOut, "description": "Missing or wrong bearer token"},
        404: {"model": ErrorOut, "description": "No FAQ_ADMIN_TOKEN configured: admin endpoints are off"},
        409: {"model": ErrorOut, "description": "The new build could not be loaded; the previous one keeps serving"},
    },
)
def reload(services: ServicesDep) -> ManifestOut:
    """Load the CURRENT build, warm it up, then swap it in atomically; answers once it serves.

    A plain `def`, so loading runs in the thread pool and the event loop keeps serving. Requests
    already running finish on the retriever they started with. This reloads the worker process
    that receives the request; the other workers notice the new `CURRENT` build within about a
    second and load it in the background (see `service.state`).
    """
    state = services.retrievers
    try:
        retriever, previous = state.reload()
    except Exception as err:  # whatever is wrong with the new build, the old one keeps serving
        log.warning("index reload failed, still serving the previous build: %s", err)
        serving = state.current.index.manifest.build_id if state.current else "none"
        raise HTTPException(409, f"reload failed, still serving build {serving}: {err}") from err
    manifest = retriever.index.manifest
    log.info("index reloaded: build %s (%d passages)", manifest.build_id, manifest.passage_count)
    return ManifestOut(
        build_id=manifest.build_id, built_at=manifest.built_at, embedder=manifest.embedder, dim=manifest.dim,
        corpus_hash=manifest.corpus_hash, passage_count=manifest.passage_count,
        vector_count=manifest.vector_count, format_version=manifest.format_version,
        previous_build_id=previous.index.manifest.build_id if previous else None,
    )


def _cluster_out(cluster: Cluster) -> ClusterOut:
    data = asdict(cluster)
    data["questions"] = data.pop("variants")
    return ClusterOut(**data, swapped=cluster.swapped)


@router.get("/admin/queue", response_model=QueueOut)
def queue_view(services: ServicesDep, retriever: RetrieverDep) -> QueueOut:
    """Open queue records grouped by meaning, each group with its closest entry in the build serving; and the
    active-learning suggestions: close calls between two entries, entries that collect thumbs-down."""
    review = services.review(retriever)
    return QueueOut(clusters=[_cluster_out(c) for c in review.clusters],
                    close_calls=[_cluster_out(c) for c in review.close_calls],
                    disliked=[asdict(d) for d in review.disliked])


@router.post("/admin/alternates", response_model=AlternatesOut, status_code=201,
             responses={422: {"model": ErrorOut, "description": "Unknown entry or bad questions"}})
def alternates(body: AlternatesIn, retriever: RetrieverDep, settings: SettingsDep, queue: QueueDep) -> AlternatesOut:
    """Append the questions to alternates.jsonl as alternate questions of the entry, and mark their queue
    records resolved; they take effect with the next rebuild."""
    passage = retriever.index.passage(body.entry)
    if passage is None:
        raise HTTPException(422, f"no entry with passage id {body.entry!r} in the build serving")
    added = add_alternates(settings.curation_dir, passage.id, body.questions)
    resolved = queue.resolve(body.questions, f"alternates of {passage.id}")
    return AlternatesOut(entry=EntryRefOut(passage_id=passage.id, title=passage.title), added=added,
                         resolved=resolved)


@router.post("/admin/entries", response_model=EntryOut, status_code=201,
             responses={422: {"model": ErrorOut, "description": "Blank question or answer"}})
def entries(body: EntryIn, settings: SettingsDep, queue: QueueDep) -> EntryOut:
    """Append a new entry to entries.jsonl (and the group's questions as its alternates); it is indexed by the
    next rebuild."""
    try:
        passage = add_entry(settings.curation_dir, body.question, body.answer, body.topic, body.url)
    except ParseError as err:
        raise HTTPException(422, f"the entry cannot be indexed: {err}") from err
    added = add_alternates(settings.curation_dir, passage.id, body.questions) if body.questions else []
    resolved = queue.resolve([body.question, *body.questions], f"new entry {passage.id}")
    return EntryOut(passage_id=passage.id, title=passage.title, alternates_added=added, resolved=resolved)


@router.post("/admin/rebuild", response_model=RebuildOut, status_code=202,
             responses={409: {"model": ErrorOut, "description": "A rebuild is already running"}})
def rebuild(services: ServicesDep) -> RebuildOut:
    """Run `faq ingest` (corpus + curation folder, atomic publish) in the background; poll GET /admin/rebuild.
    Every worker picks up the new build by itself."""
    try:
        status = services.rebuilder.start()
    except RebuildRunning as err:
        raise HTTPException(409, str(err)) from err
    return RebuildOut(**_status_fields(status))


@router.get("/admin/rebuild", response_model=RebuildOut)
def rebuild_status(services: ServicesDep) -> RebuildOut:
    """The state of the last rebuild started from the console."""
    return RebuildOut(**_status_fields(services.rebuilder.status()))


def _status_fields(status: dict[str, Any]) -> dict[str, Any]:
    return {key: status.get(key) for key in RebuildOut.model_fields if key in status}


@router.post("/admin/explain", response_model=ExplainOut)
def explain(body: AskIn, retriever: RetrieverDep, settings: SettingsDep) -> ExplainOut:
    """Hit test: the ranking `/api/ask` makes for this question, with every signal, the confidence, the
    threshold and the decision (nothing is logged)."""
    check_length(body.question, settings.max_question_chars, "question")
    history = [(turn.question, turn.answer) for turn in body.history]
    explanation = retriever.explain(body.question, history=history or None)
    result = explanation.result
    return ExplainOut(answered=result.answered, answer=result.answer, confidence=result.confidence,
                      threshold=explanation.threshold, used_history=result.used_history, tokens=explanation.tokens,
                      candidates=[asdict(c) for c in explanation.candidates], unstated=explanation.unstated,
                      unnamed=explanation.unnamed)


@router.get("/admin/feedback", response_model=list[FeedbackItemOut])
def feedback_list(queue: QueueDep, limit: int = 200) -> list[FeedbackItemOut]:
    """The newest thumbs, with the question and the answer they judged."""
    return [FeedbackItemOut(**asdict(record)) for record in queue.feedback(max(1, min(limit, 1000)))]


@router.get("/admin/analytics")
def analytics(services: ServicesDep, retriever: RetrieverDep, days: int = 30) -> dict[str, Any]:
    """Questions per day (answered, refused), the answered share, the top questions, the top refused groups and
    the thumbs ratio."""
    data = services.queue.analytics(days=max(1, min(days, 366)))
    refused = services.queue.refused_questions()
    groups = services.review.group(refused, retriever)[:10]
    data["top_refused_clusters"] = [{"question": group[0], "count": sum(refused[q] for q in group),
                                     "variants": len(group)} for group in groups]
    return data
