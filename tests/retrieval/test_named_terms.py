"""A question that asks whether a named thing is supported is answered only when the help center uses that name."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.passage import Passage
from retrieval.named_terms import named_terms, unnamed_terms
from retrieval.retriever import Retriever


@pytest.mark.parametrize(("question", "terms"), [
    ("cdn支持http3和quic协议吗", ("cdn", "http3", "quic")),
    ("有没有办法让CDN只允许HTTPS访问", ("cdn", "https")),
    ("伙伴中心支持SAML单点登录吗", ("saml",)),
    ("Is there a Partner Center mobile app for iPhone or Android?", ("partner", "center", "iphone", "android")),
    ("Does the CDN support HTTP/2?", ("cdn", "http/2")),
    ("Does the CDN support TLS 1.3?", ("cdn", "tls")),
    ("does it support websockets?", ()),  # an English word not written as a name
    ("PSM怎么分配", ()),  # not a question whether something is supported
    ("How do I reset my SAML password?", ()),
])
def test_the_names_a_support_question_asks_about(question: str, terms: tuple[str, ...]) -> None:
    assert named_terms(question) == terms


def _passage(title: str, answer: str) -> Passage:
    return Passage.create(title=title, answer=answer, topic="", source="test", kind="faq")


def _frequency(known: set[str]):  # type: ignore[no-untyped-def]
    return lambda tokens: np.array([1 if token in known else 0 for token in tokens])


def test_a_name_the_corpus_never_uses_is_unnamed_unless_the_top_holds_its_reading() -> None:
    protocols = _passage("CDN 支持非 HTTP 协议加速吗？", "CDN 仅支持 HTTP 和 HTTPS 协议的加速。")
    known = _frequency({"cdn", "http", "https"})
    assert unnamed_terms("cdn支持http3和quic协议吗", protocols, known) == ("http3", "quic")
    assert unnamed_terms("CDN支持HTTPS吗", protocols, known) == ()
    # The term bridge reads a word the corpus never uses as one of its own.
    phone = _passage("登录伙伴中心", "在手机或电脑的浏览器中打开伙伴中心。")
    assert unnamed_terms("伙伴中心有没有iPhone版", phone, known, lambda words: ["手机" for _ in words]) == ()
    assert unnamed_terms("伙伴中心有没有iPhone版", phone, known, lambda words: words) == ("iphone",)


def test_a_name_used_elsewhere_in_the_corpus_or_in_the_singular_is_not_held_against_the_top() -> None:
    answer = _passage("CDN 支持 WebSocket 吗？", "配置为全站加速的域名支持 WebSocket。")
    assert unnamed_terms("Does Tencent CDN support WebSocket?", answer, _frequency({"tencent"})) == ()
    assert unnamed_terms("Does Tencent CDN support WebSocket?", answer, _frequency(set())) == ("tencent",)
    psm = _passage("PO通过审核后,代表处有多个PSM,会流向哪个?", "流向排在第一位的PSM。")
    assert unnamed_terms("And if several PSMs are there, who gets it?", psm, _frequency(set())) == ()


def test_a_passage_that_is_only_a_question_is_not_held_to_the_names() -> None:
    question_only = _passage("CDN支持QUIC吗", "CDN支持QUIC吗")
    assert unnamed_terms("CDN支持HTTP3吗", question_only, _frequency(set())) == ()


def test_a_support_question_about_a_name_the_help_center_never_uses_is_refused(retriever: Retriever) -> None:
    # The model alone answers it with a passage about the partner center at a confidence above 0.9.
    question = "伙伴中心支持SAML单点登录吗"
    signals = retriever.fusion(question)
    assert retriever.decide(question, signals, signals.fused).confidence > retriever.threshold
    result = retriever.ask(question)
    assert not result.answered and result.confidence == 0.0
    # A name the help center does use is answered as before.
    assert retriever.ask("PO验证有没有SLA").answered
