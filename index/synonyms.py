"""Synonym expansion of keyword queries: a query holding one term of a group also looks for the others."""

from __future__ import annotations

from collections.abc import Sequence

from index.tokenizer import Tokenizer


class Synonyms:
    """Synonym groups (the curation folder's synonyms.txt), read with a build's tokenizer.

    A term is present in a query when all of its tokens are; then the tokens of every other term of
    its group are added (once each, after the query's own tokens).
    """

    def __init__(self, groups: Sequence[Sequence[str]], tokenizer: Tokenizer) -> None:
        self.groups = tuple(tuple(group) for group in groups)
        self._tokenizer = tokenizer
        self._terms: list[list[tuple[str, ...]]] | None = None

    def _group_terms(self) -> list[list[tuple[str, ...]]]:
        if self._terms is None:  # tokenised on first use: the tokenizer's dictionary loads lazily
            self._terms = [[tuple(self._tokenizer.tokenize(term)) for term in group] for group in self.groups]
        return self._terms

    def expand(self, tokens: list[str]) -> list[str]:
        """`tokens` followed by the tokens of the synonyms of every term they contain."""
        if not self.groups:
            return tokens
        present = set(tokens)
        extra: dict[str, None] = {}
        for group in self._group_terms():
            if any(term and present.issuperset(term) for term in group):
                for term in group:
                    extra.update(dict.fromkeys(t for t in term if t not in present))
        return [*tokens, *extra]
