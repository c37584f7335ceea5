"""Format detection and the one entry point: `parse(path)` for a file, `parse_paths` for trees."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest.errors import ParseError
from ingest.passage import Passage
from ingest.scrape import looks_like_scrape

Parser = Callable[[Path, str, "Path | None"], list[Passage]]

# Largest file read; larger ones are skipped with a reason rather than exhausting memory.
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file that yielded nothing, and why."""

    path: str
    reason: str


@dataclass(slots=True)
class ParseResult:
    """Passages from a run over many files, with the files skipped and the duplicates merged."""

    passages: list[Passage] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    files_read: int = 0
    duplicates_merged: int = 0


class NothingToIndexError(RuntimeError):
    """Every input file was skipped or empty; the existing index was left untouched."""

    def __init__(self, parsed: ParseResult) -> None:
        super().__init__("no usable passages found; the existing index is unchanged")
        self.parsed = parsed


# Parsers by format, imported on first use so a run only loads what its files need.
PARSERS: dict[str, tuple[str, str]] = {
    "scrape": ("ingest.scrape", "parse_scrape"),
    "html": ("ingest.html", "parse_html"),
    "markdown": ("ingest.markdown", "parse_markdown"),
    "jsonl": ("ingest.jsonl", "parse_jsonl"),
}


def parser_for(fmt: str) -> Parser:
    """The parse function registered for a format."""
    module, name = PARSERS[fmt]
    return getattr(importlib.import_module(module), name)


EXTENSIONS = {
    ".txt": "scrape",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def detect_format(path: Path, text: str) -> str:
    """Pick a parser by extension. Other files are recognised by content: any extension may hold
    an HTML page (saved `.aspx`, `.php` pages), while Markdown and scrape dumps, whose content
    signatures are weak, are only guessed for files with no extension at all."""
    by_extension = EXTENSIONS.get(path.suffix.lower())
    if by_extension:
        return by_extension
    head = text.lstrip()[:2000].lower()
    if head.startswith(("<!doctype html", "<html")) or "<body" in head:
        return "html"
    if head.startswith("{"):
        return "jsonl"
    if path.suffix:
        raise ParseError(f"unsupported file type {path.suffix!r}")
    if head.startswith("#") or "\n#" in head:
        return "markdown"
    if looks_like_scrape(text):
        return "scrape"
    raise ParseError("unrecognised content (no extension; not HTML, JSONL, Markdown or a scrape dump)")


def read_text(path: Path) -> str:
    """Read a file as UTF-8 text, raising `ParseError` for binary, non-UTF-8, empty or huge files."""
    size = path.stat().st_size
    if size == 0:
        raise ParseError("empty file")
    if size > MAX_FILE_BYTES:
        raise ParseError(f"file too large ({size} bytes, limit {MAX_FILE_BYTES})")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ParseError("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ParseError(f"not UTF-8 text (invalid byte at offset {err.start})") from None
    if not text.strip():
        raise ParseError("empty file (only whitespace)")
    return text


def parse(path: Path, root: Path | None = None) -> list[Passage]:
    """Parse one file into passages; raises `ParseError` with the reason when it yields none."""
    text = read_text(path)
    fmt = detect_format(path, text)
    try:
        passages = parser_for(fmt)(path, text, root)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as err:
        raise ParseError(f"unparsable {fmt} file: {err}") from err
    if not passages:
        raise ParseError(f"no passages found in {fmt} file")
    return passages


def iter_files(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> Iterator[tuple[Path, Path | None]]:
    """Files under the given paths (folders walked in sorted order), each with its folder root.

    Folders in `exclude` (the curation folder: its files are not pages) are skipped wherever they are.
    """
    skipped = [folder.resolve() for folder in exclude]
    for path in paths:
        if path.is_dir():
            # Hidden files and anything inside a hidden folder (.git, .venv, …) are not pages.
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if not any(part.startswith(".") for part in file.relative_to(path).parts) and not any(
                        file.resolve().is_relative_to(folder) for folder in skipped):
                    yield file, path
        else:
            yield path, None


def parse_paths(
    paths: Iterable[Path], progress: Callable[[Iterable[tuple[Path, Path | None]]], Iterable] | None = None,
    exclude: Iterable[Path] = (),
) -> ParseResult:
    """Parse every file under `paths` but those in the `exclude` folders, skipping bad ones with a reason
    and merging exact duplicates."""
    result = ParseResult()
    by_id: dict[str, int] = {}
    files = list(iter_files(paths, exclude))
    for file, root in progress(files) if progress else files:
        result.files_read += 1
        if not file.exists():
            result.skipped.append(SkippedFile(str(file), "no such file or folder"))
            continue
        try:
            passages = parse(file, root)
        except (ParseError, OSError) as err:
            result.skipped.append(SkippedFile(str(file), str(err)))
            continue
        for passage in passages:
            if passage.id in by_id:
                result.duplicates_merged += 1
                kept = result.passages[by_id[passage.id]]
                if passage.source != kept.source and passage.source not in kept.extra_sources:
                    result.passages[by_id[passage.id]] = replace(
                        kept, extra_sources=(*kept.extra_sources, passage.source)
                    )
                continue
            by_id[passage.id] = len(result.passages)
            result.passages.append(passage)
    return result

