"""One raw-embedding probe process, run by `eval.bench.openmp` in a fresh interpreter under given OpenMP settings.

    python -m eval.bench.openmp_probe EMBEDDER measure   # stdin: a JSON list of questions; stdout: ms per question
    python -m eval.bench.openmp_probe EMBEDDER company   # prints "ready", then embeds the questions until killed

Imports only the embedder, so the process measures what the OpenMP runtime does, nothing else.
"""

from __future__ import annotations

import json
import sys
import time

from index.embedders import make_embedder

MODES = ("measure", "company")


def main(argv: list[str]) -> int:
    """Run one probe; returns the exit status."""
    if len(argv) != 2 or argv[1] not in MODES:
        print(f"usage: python -m eval.bench.openmp_probe EMBEDDER {'|'.join(MODES)}", file=sys.stderr)
        return 2
    embedder = make_embedder(argv[0])
    questions = json.loads(sys.stdin.readline())
    embedder.embed_queries(["预热 warm up"])
    if argv[1] == "company":  # embed until killed
        print("ready", flush=True)
        while True:
            for q in questions:
                embedder.embed_queries([q])
    ms = []
    for q in questions:
        started = time.perf_counter()
        embedder.embed_queries([q])
        ms.append((time.perf_counter() - started) * 1000)
    print(json.dumps(ms))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
