"""Ingestion: pages in any supported format → clean, de-duplicated `Passage` records."""

from ingest.passage import Passage
from ingest.registry import ParseResult, SkippedFile, parse, parse_paths

__all__ = ["ParseResult", "Passage", "SkippedFile", "parse", "parse_paths"]
