"""A real Milvus on this machine: `milvus-lite server` on a free port over a data folder, for the benchmark and
the tests alike (it speaks a Milvus cluster's gRPC protocol; its latency is not a cluster's)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from eval.bench.server import ServerStartError, free_port

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


class MilvusServer:
    """One `milvus-lite server` process; can be stopped and started again on the same port and data."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"milvus-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether this object started the server and has not stopped it."""
        return self._process is not None

    def start(self) -> None:
        """Start the server and wait until it accepts connections (`ServerStartError` with its log if not)."""
        executable = shutil.which("milvus-lite") or str(Path(sys.executable).parent / "milvus-lite")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(
                [executable, "server", "--data-dir", str(self.data_dir), "--host", "127.0.0.1",
                 "--port", str(self.port)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServerStartError(f"milvus-lite exited with {self._process.returncode}:\n"
                                       f"{self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise ServerStartError(f"milvus-lite not listening after {START_TIMEOUT_S} s:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Stop the server (killed if it does not stop)."""
        if self._process is None:
            return
        process, self._process = self._process, None
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
