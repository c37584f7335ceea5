"""Ingestion: pages in any supported format → clean, de-duplicated `Passage` records."""

import os

# Haystack sends usage telemetry by default; this product runs offline and must not phone home.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

from ingest.passage import Passage
from ingest.registry import ParseResult, SkippedFile, parse, parse_paths

__all__ = ["ParseResult", "Passage", "SkippedFile", "parse", "parse_paths"]
