"""The server harness the benchmarks and the tests share: a server that cannot start is reported with its log.

Servers that start are exercised by tests/service/test_live.py (uvicorn, two workers), the browser tests and
tests/eval/test_bench.py (`faq serve`).
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from eval.bench.server import ServerStartError, free_port, running_server, start_server

pytestmark = pytest.mark.slow


def test_free_port_is_free() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_a_server_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    index = tmp_path / "index"
    (index / "builds").mkdir(parents=True)
    (index / "CURRENT").write_text("no-such-build", "utf-8")
    with pytest.raises(ServerStartError, match="exited with 1") as raised, \
            running_server(index, tmp_path / "logs" / "server.log"):
        pass
    assert "is incomplete: missing manifest.json" in str(raised.value)  # the log's own words


def test_a_server_not_ready_in_time_is_stopped(tmp_path: Path) -> None:
    index = tmp_path / "index"
    (index / "builds").mkdir(parents=True)
    (index / "CURRENT").write_text("no-such-build", "utf-8")
    server = start_server(index, tmp_path / "server.log")
    with pytest.raises(ServerStartError, match="not ready after 0 s"):
        server.wait_ready(timeout=0)
    server.stop()
    assert server.process.poll() is not None
