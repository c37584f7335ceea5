"""Evaluation: question sets, metrics, side-by-side configurations, reports, plots, benchmarks."""

import ingest  # noqa: F401  (switches Haystack telemetry off before any Haystack import)
