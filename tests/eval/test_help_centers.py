"""The corpora cut from the shared material for the team's help-center question sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.help_centers import FAQ_PRODUCTS, TENCENT_DOCS, TENCENT_FAQ_FILE, tencent_en, tencent_faq
from ingest.registry import parse_paths


def test_the_english_help_center_keeps_only_english_pages_in_their_folders(tmp_path: Path) -> None:
    docs = tmp_path / "shared" / TENCENT_DOCS / "指南" / "子客"
    docs.mkdir(parents=True)
    (docs / "代金券_intl_en.md").write_text("# Vouchers\n\n## Allocating vouchers\n\nVouchers start at 0.\n", "utf-8")
    (docs / "代金券_intl_zh.md").write_text("# 代金券\n\n## 分配代金券\n\n代金券初始额度为0。\n", "utf-8")
    stale = tmp_path / "out" / "tencent-en" / "corpus" / "old_intl_en.md"
    stale.parent.mkdir(parents=True)
    stale.write_text("# Old\n\nGone.\n", "utf-8")

    corpus = tencent_en(tmp_path / "shared", tmp_path / "out")

    assert sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.md")) == ["指南/子客/代金券_intl_en.md"]
    passages = parse_paths([corpus]).passages
    assert passages and all("代金券初始额度" not in p.answer for p in passages)
    assert any("Vouchers start at 0." in p.answer for p in passages)


def test_the_english_help_center_needs_english_pages(tmp_path: Path) -> None:
    (tmp_path / TENCENT_DOCS).mkdir()
    with pytest.raises(FileNotFoundError, match=r"_intl_en\.md"):
        tencent_en(tmp_path, tmp_path / "out")


def test_the_faq_help_center_keeps_the_chosen_products(tmp_path: Path) -> None:
    records = [{"question": f"问题{i}?", "answer": f"回答{i}。", "topic": topic, "source": f"s{i}"}
               for i, topic in enumerate([f"{FAQ_PRODUCTS[0]}内容分发网络 CDN", "数据库/云数据库 MySQL",
                                          f"{FAQ_PRODUCTS[2]}计费相关"])]
    (tmp_path / TENCENT_FAQ_FILE).write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")

    corpus = tencent_faq(tmp_path, tmp_path / "out")

    assert [p.title for p in parse_paths([corpus]).passages] == ["问题0?", "问题2?"]
