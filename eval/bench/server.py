"""A real server in a subprocess, on 127.0.0.1: the harness the benchmarks and the tests share.

`start_server` launches `faq serve` (what an operator runs: it also sets OpenMP threads per worker) or
`uvicorn service.app:create_app --factory` (the factory alone) and returns a `RunningServer` at once;
`wait_ready` waits until every worker has started and `/readyz` answers 200. `running_server` does both
and stops the server afterwards. The server is never imported here: it runs in its own process.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from eval.bench.machine import ProcessMemory, process_memory
from retrieval.settings import PROJECT_ROOT

READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0
WORKER_STARTED = "Application startup complete"  # uvicorn's line, once per worker (log level info)
Launcher = Literal["faq", "uvicorn"]


class ServerStartError(RuntimeError):
    """The server exited or did not become ready in time; the message ends with its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(slots=True)
class RunningServer:
    """A server process: where it listens, where it logs, how long start-up took."""

    url: str
    process: subprocess.Popen[bytes]
    workers: int
    log_path: Path
    launched_at: float  # time.perf_counter() when the process was started
    startup_s: float = math.nan  # launch to ready, set by `wait_ready`

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.url.rsplit(":", 1)[1])

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log."""
        with contextlib.suppress(OSError):
            return self.log_path.read_text("utf-8", errors="replace")[-chars:]
        return ""

    def workers_started(self) -> int:
        """How many workers have finished their start-up, from the log."""
        with contextlib.suppress(OSError):
            return self.log_path.read_text("utf-8", errors="replace").count(WORKER_STARTED)
        return 0

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> float:
        """Wait until every worker has started and `/readyz` answers 200; returns the start-up seconds."""
        with httpx.Client(timeout=5.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise ServerStartError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
                if time.perf_counter() - self.launched_at > timeout:
                    raise ServerStartError(f"the server was not ready after {timeout:.0f} s:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (self.workers_started() >= self.workers
                            and client.get(f"{self.url}/readyz").status_code == 200):
                        break
                time.sleep(0.02)
        self.startup_s = time.perf_counter() - self.launched_at
        return self.startup_s

    def memory(self) -> ProcessMemory:
        """RSS of the server and its worker processes."""
        return process_memory(self.process.pid)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), killing the whole process group if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def server_command(launcher: Launcher, index_dir: Path, port: int, workers: int) -> list[str]:
    """The command line of a server on 127.0.0.1:`port`."""
    if launcher == "faq":
        return [sys.executable, str(PROJECT_ROOT / "cli.py"), "serve", "--index", str(index_dir),
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--log-level", "info", "--no-access-log"]


def start_server(index_dir: Path, log_path: Path, *, workers: int = 1, launcher: Launcher = "faq",
                 env: Mapping[str, str] | None = None, cwd: Path | None = None) -> RunningServer:
    """Launch a server over `index_dir` (not waiting for it), logging to `log_path`.

    Its environment is this process's without any `FAQ_*` variable, plus the index, no rate limit, a
    feedback log beside `log_path`, and then `env`. It runs in `cwd` (default: the log's folder, so no
    stray `.env` is read) in a session of its own.
    """
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("FAQ_")}
    environment.update({
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])),
        "FAQ_INDEX_DIR": str(index_dir),
        "FAQ_RATE_LIMIT_PER_MINUTE": "0",
        "FAQ_FEEDBACK_LOG": str(log_path.with_suffix(".feedback.jsonl")),
        "FAQ_QUEUE_DB": str(log_path.with_suffix(".queue.sqlite3")),
        **(env or {}),
    })
    with log_path.open("wb") as log_file:
        launched_at = time.perf_counter()
        process = subprocess.Popen(server_command(launcher, index_dir, port, workers), cwd=cwd or log_path.parent,
                                   env=environment, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    return RunningServer(f"http://127.0.0.1:{port}", process, workers, log_path, launched_at)


@contextlib.contextmanager
def running_server(index_dir: Path, log_path: Path, *, workers: int = 1, launcher: Launcher = "faq",
                   env: Mapping[str, str] | None = None, cwd: Path | None = None,
                   timeout: float = READY_TIMEOUT_S) -> Iterator[RunningServer]:
    """A ready server for the duration of the block, stopped afterwards."""
    server = start_server(index_dir, log_path, workers=workers, launcher=launcher, env=env, cwd=cwd)
    try:
        server.wait_ready(timeout)
        yield server
    finally:
        server.stop()
