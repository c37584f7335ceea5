"""Every error as JSON `{"detail": "<clear message>"}`, with validation errors made readable."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.pointer import StoreUnavailableError

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The service cannot start (no usable index or calibration); the message says why and what to do."""


class StartupErrorMiddleware:
    """Pure ASGI middleware: a `StartupError` during start-up is reported as its message alone.

    Starlette reports a failed lifespan start-up with the whole traceback, which the server prints;
    for a known, user-fixable problem one clear line is all an operator needs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_clearly(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                error = sys.exc_info()[1]  # Starlette sends this while handling the start-up error
                if isinstance(error, StartupError):
                    message = {**message, "message": str(error)}
            await send(message)

        await self.app(scope, receive, send_clearly)


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error handlers on `app`."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StoreUnavailableError, _store_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI's "There was an error parsing the body": JSON must be UTF-8, so like any other
        # malformed JSON body this is a 422 that says what is wrong.
        return JSONResponse({"detail": "request body is not valid JSON (it is not UTF-8 text)"}, status_code=422)
    return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": validation_message(exc.errors())}, status_code=422)


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The shared store failed mid-request: 503, and later requests fail fast until it answers again."""
    request.app.state.services.retrievers.mark_unavailable(str(exc))
    return JSONResponse({"detail": f"the vector store is unavailable: {exc}; try again shortly"}, status_code=503,
                        headers={"Retry-After": "5"})


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def validation_message(errors: Sequence[Any]) -> str:
    """One sentence per problem, e.g. `question: must not be blank; limit: must be at least 1`."""
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":
            parts.append(f"request body is not valid JSON ({error.get('ctx', {}).get('error', 'decode error')})")
            continue
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
        where = ".".join(location) if location else "request body"
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts) or "invalid request"
