"""Corpora cut from the shared material for the team's own help-center question sets.

Unlike the paraphrase adapters (`eval.datasets`), these write only a corpus: the questions are the
team's, in `eval/questions/`. Each writes `<out>/<name>/corpus/` and returns that folder.
- `tencent-en`: the English twins (`*_intl_en.md`) of the Tencent partner guide, in their folder tree,
  for an English help center.
- `tencent-faq`: the Q/A pairs of three products of the Tencent FAQ (CDN, domains and sites, billing and
  accounts), for a Chinese FAQ help center the team did not build the product on.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

TENCENT_DOCS = "tencent-partner-docs"
TENCENT_FAQ_FILE = "tencent-intl-faq.jsonl"
FAQ_PRODUCTS = ("CDN与加速/", "域名与网站/", "管理与支持/")


def tencent_en(shared: Path, out: Path) -> Path:
    """Copy the English pages of the partner guide, keeping the folders (they are the topic path)."""
    source, corpus = shared / TENCENT_DOCS, out / "tencent-en" / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    pages = sorted(source.rglob("*_intl_en.md"))
    if not pages:
        raise FileNotFoundError(f"no *_intl_en.md pages under {source}")
    for page in pages:
        target = corpus / page.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
    return corpus


def tencent_faq(shared: Path, out: Path) -> Path:
    """The FAQ records of `FAQ_PRODUCTS`, as one JSON Lines file."""
    corpus = out / "tencent-faq" / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    kept = [line for line in (shared / TENCENT_FAQ_FILE).read_text("utf-8").splitlines()
            if line.strip() and json.loads(line)["topic"].startswith(FAQ_PRODUCTS)]
    (corpus / "tencent-faq.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return corpus


HELP_CENTERS: dict[str, Callable[[Path, Path], Path]] = {"tencent-en": tencent_en, "tencent-faq": tencent_faq}
