"""Reading the server's `Server-Timing` header, as the HTTP benchmark splits an `/api/ask` round trip."""

from __future__ import annotations

import httpx

from eval.bench.http_latency import server_timings


def test_server_timings_reads_every_entry_of_every_header() -> None:
    response = httpx.Response(200, headers=[("Server-Timing", "retrieval;dur=14.25"),
                                            ("Server-Timing", 'app;dur=15.5, cache;desc="miss", db;desc=x;dur=0.3')])
    assert server_timings(response) == {"retrieval": 14.25, "app": 15.5, "db": 0.3}


def test_a_response_without_the_header_has_no_timings() -> None:
    assert server_timings(httpx.Response(200)) == {}
