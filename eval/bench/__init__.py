"""`faq bench`: ingestion throughput, query latency (in process and over HTTP), load, memory, start-up, scale-out.

One module per measurement, each returning a typed result:

| module | measures / holds |
|---|---|
| `corpora` | the corpus sizes (20, 6k, 60k) and their cached indexes, the synthetic 60k build |
| `machine` | cores, memory, load average (sampled while measuring), process memory |
| `ingest` | `run_ingest` against raw encoding of the same texts |
| `latency` | `Retriever.ask` / `search` next to raw query embedding, in process |
| `profile` | the time of each step of the ask and search paths, through public seams |
| `server` | the `faq serve` / uvicorn harness shared with the tests |
| `http_latency`, `load` | sequential HTTP requests; concurrent clients |
| `openmp`, `openmp_probe` | raw query embedding under OpenMP settings, in fresh processes |
| `cache` | the answer cache over HTTP: first and repeated `/api/ask`, `/healthz`, the hit rate (`--compare`: A/B) |
| `milvus` | the Milvus store against FAISS: ingest, latency, answer and keyword parity (a `milvus-lite server`) |
| `ray_ingest` | `build_index` on Ray actors against local, on the same passages |
| `rows`, `scale` | the scale-out rows, and the scale-out part of the run (`faq bench --scale-parts`) |
| `run` | the whole run: every figure for every size, derived ratios, the scale-out parts, targets |
| `report` | Markdown and JSON output |

Every timing is measured next to its reference in the same run (pipeline vs raw encoding, HTTP vs raw query
embedding), so ratios stay meaningful on a machine shared with other work.
"""
