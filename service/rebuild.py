"""Rebuilding the index from the console: `faq ingest` in a background process, one at a time.

The same command maintainers run (parse, curate, embed what changed, publish atomically), so the
console's rebuild and a shell's are the same thing; every worker then follows the new `CURRENT`
build by itself. The status lives in a small JSON file beside the queue, so any worker can report it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OUTPUT_TAIL_CHARS = 4000


class RebuildRunning(RuntimeError):
    """Another rebuild has not finished yet."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Rebuilder:
    """Starts `faq ingest` for the configured corpus, curation folder, index and embedder."""

    def __init__(self, folder: Path, corpus: Path, curation: Path, index: Path, embedder: str) -> None:
        self.status_file = folder / "rebuild.json"
        self.lock_file = folder / "rebuild.lock"
        self.command = [sys.executable, "-m", "cli", "ingest", str(corpus), "--index", str(index),
                        "--embedder", embedder, "--curation", str(curation)]

    def status(self) -> dict[str, Any]:
        """The last rebuild's state (`idle` when there was none)."""
        try:
            return json.loads(self.status_file.read_text("utf-8"))
        except (OSError, ValueError):
            return {"state": "idle"}

    def start(self) -> dict[str, Any]:
        """Start a rebuild in the background; `RebuildRunning` if one is running (in any worker)."""
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock)
            raise RebuildRunning("a rebuild is already running") from None
        try:
            process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
        except OSError:
            os.close(lock)
            raise
        status = {"state": "running", "started": _now(), "pid": process.pid, "command": self.command}
        self._write(status)
        threading.Thread(target=self._wait, args=(process, lock, status), name="index-rebuild", daemon=True).start()
        return status

    def _wait(self, process: subprocess.Popen[bytes], lock: int, status: dict[str, Any]) -> None:
        try:
            output = process.communicate()[0].decode("utf-8", errors="replace")
            self._write({**status, "state": "succeeded" if process.returncode == 0 else "failed",
                         "finished": _now(), "returncode": process.returncode,
                         "output": output[-OUTPUT_TAIL_CHARS:]})
        finally:
            with contextlib.suppress(OSError):
                os.close(lock)  # releases the flock

    def _write(self, status: dict[str, Any]) -> None:
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(status, ensure_ascii=False), "utf-8")
        os.replace(tmp, self.status_file)
