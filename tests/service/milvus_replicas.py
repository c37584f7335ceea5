"""Helpers for tests of `faq serve` replicas on one Milvus: publish the corpus, start and query replicas."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from eval.bench.server import READY_TIMEOUT_S, free_port
from index.build import build_index
from index.embedders import Embedder
from index.milvus_store import MilvusConfig
from ingest.registry import parse_paths
from tests.conftest import CORPUS, PROJECT
from tests.milvus import MilvusServer, stop
from tests.service.conftest import ADMIN_TOKEN

MILVUS_TIMEOUT_S = 2


@dataclass(frozen=True)
class Replica:
    """One `faq serve` process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


def milvus_env(server: MilvusServer, base: str, folder: Path) -> dict[str, str]:
    """The environment of a replica (or `faq ingest`) on this Milvus; its index folder stays empty."""
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "passive"),
        "FAQ_VECTOR_STORE": "milvus",
        "FAQ_MILVUS_URI": server.uri,
        "FAQ_MILVUS_COLLECTION": base,
        "FAQ_MILVUS_TIMEOUT_SECONDS": str(MILVUS_TIMEOUT_S),
        "FAQ_INDEX_DIR": str(folder / "no-index"),
        "FAQ_FEEDBACK_LOG": str(folder / "feedback.jsonl"),
        "FAQ_ADMIN_TOKEN": ADMIN_TOKEN,
        "FAQ_RATE_LIMIT_PER_MINUTE": "0",
        "FAQ_INDEX_CHECK_SECONDS": "1",
    }


def publish_corpus(server: MilvusServer, base: str, embedder: Embedder, lock_dir: Path) -> str:
    """Publish the shipped corpus under `base`; returns the collection's name."""
    from index.milvus_publish import MilvusTarget

    target = MilvusTarget(MilvusConfig(uri=server.uri, base=base, timeout=30))
    return str(build_index(parse_paths([CORPUS]).passages, lock_dir, embedder, target=target).build)


def start_replica(env: dict[str, str], folder: Path, name: str) -> Replica:
    """`faq serve` on a free port; returns once it answers HTTP (ready or not)."""
    port = free_port()
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, str(PROJECT / "cli.py"), "serve", "--port", str(port)],
                                   cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    replica = Replica(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            httpx.get(f"{replica.url}/healthz", timeout=2)
            return replica
        except httpx.TransportError:
            time.sleep(0.25)
    stop(process)
    pytest.fail(f"{name} not serving after {READY_TIMEOUT_S} s:\n{log.read_text(errors='replace')[-3000:]}")


def wait_until(replica: Replica, ready: bool, timeout: float = READY_TIMEOUT_S) -> dict:
    """Poll /readyz until its `ready` is `ready`; returns the last body."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            body = httpx.get(f"{replica.url}/readyz", timeout=MILVUS_TIMEOUT_S * 5).json()
            if body["ready"] is ready:
                return body
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"/readyz not ready={ready} after {timeout} s (last {body}):\n"
                f"{replica.log.read_text(errors='replace')[-3000:]}")
