"""A real Milvus for tests (`eval.bench.milvus_server.MilvusServer`), and stopping the servers tests start."""

from __future__ import annotations

import subprocess

from eval.bench.milvus_server import MilvusServer

__all__ = ["MilvusServer", "stop"]


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server started by a test (and kill it if it does not stop)."""
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
