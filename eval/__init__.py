"""Evaluation: question sets, metrics, side-by-side configurations, reports, plots, benchmarks."""
