"""The answer cache: bounded LRU keyed by build, question, history and language; hits skip retrieval."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from retrieval.results import AskResult
from retrieval.retriever import Retriever
from service.answer_cache import AnswerCache, cache_key
from tests.service.conftest import OFF_TOPIC, PO_QUESTION, ClientFactory


def _result(text: str) -> AskResult:
    return AskResult(answered=True, answer=text, citations=[], confidence=1.0, suggestions=[])


def test_keys_fold_width_and_spaces_but_keep_build_history_language_and_case() -> None:
    assert cache_key("b1", "  PO提交后\u3000多久 ", None, None) == cache_key("b1", "PO提交后 多久", [], None)
    assert cache_key("b1", "ＰＯ", None, None) == cache_key("b1", "PO", None, None)  # full-width → NFKC
    base = cache_key("b1", "PO", None, None)
    assert len({base, cache_key("b2", "PO", None, None), cache_key("b1", "po", None, None),
                cache_key("b1", "PO", [("上一问", "答")], None), cache_key("b1", "PO", None, "en")}) == 5


def test_lru_is_bounded_and_evicts_the_least_recently_used() -> None:
    lookups: list[bool] = []
    cache = AnswerCache(2, on_lookup=lookups.append)
    keys = {name: cache_key("b", name, None, None) for name in "abc"}
    cache.put(keys["a"], _result("a"))
    cache.put(keys["b"], _result("b"))
    assert cache.get(keys["a"]).answer == "a"  # a is now the most recently used
    cache.put(keys["c"], _result("c"))  # evicts b
    assert len(cache) == 2
    assert cache.get(keys["b"]) is None and cache.get(keys["c"]).answer == "c"
    assert lookups == [True, False, True]


def test_keep_only_drops_other_builds_and_size_zero_caches_nothing() -> None:
    cache = AnswerCache(10)
    cache.put(cache_key("old", "q", None, None), _result("old"))
    cache.put(cache_key("new", "q", None, None), _result("new"))
    cache.keep_only("new")
    assert len(cache) == 1
    assert cache.get(cache_key("old", "q", None, None)) is None
    assert cache.get(cache_key("new", "q", None, None)).answer == "new"
    off = AnswerCache(0)
    off.put(cache_key("b", "q", None, None), _result("x"))
    assert len(off) == 0 and off.get(cache_key("b", "q", None, None)) is None
    with pytest.raises(ValueError, match=">= 0"):
        AnswerCache(-1)


def _cache_samples(client) -> dict[str, float]:
    text = client.get("/metrics").text
    return {s.labels["result"]: s.value for f in text_string_to_metric_families(text) for s in f.samples
            if s.name == "faq_answer_cache_total"}


def test_a_repeated_question_is_answered_from_the_cache(make_client: ClientFactory, retriever: Retriever,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client()
    asked: list[str] = []
    real_ask = retriever.ask
    monkeypatch.setattr(retriever, "ask", lambda question, **kw: asked.append(question) or real_ask(question, **kw))
    first = client.post("/api/ask", json={"question": PO_QUESTION})
    again = client.post("/api/ask", json={"question": f" {PO_QUESTION}  "})
    other = client.post("/api/ask", json={"question": OFF_TOPIC})
    follow_up = client.post("/api/ask", json={"question": PO_QUESTION,
                                              "history": [{"question": "怎么申请激励", "answer": "…"}]})
    assert first.status_code == again.status_code == other.status_code == follow_up.status_code == 200
    assert again.json() == first.json() and again.headers["x-index-build"] == first.headers["x-index-build"]
    assert asked == [PO_QUESTION, OFF_TOPIC, PO_QUESTION]  # the repeat never reached the retriever
    assert _cache_samples(client) == {"hit": 1.0, "miss": 3.0}


def test_a_new_build_empties_the_cache_of_the_old_one(make_app, retriever: Retriever) -> None:
    app = make_app()
    services = app.state.services
    services.answers.put(cache_key(retriever.index.build_id, "q", None, None), _result("x"))
    new = SimpleNamespace(index=SimpleNamespace(build_id="20990101T000000000000Z",
                                                manifest=SimpleNamespace(build_id="20990101T000000000000Z")))
    services.retrievers.on_reload(new, retriever)
    assert len(services.answers) == 0


def test_cache_size_zero_turns_it_off(make_client: ClientFactory) -> None:
    client = make_client(answer_cache_size=0)
    for _ in range(2):
        assert client.post("/api/ask", json={"question": PO_QUESTION}).status_code == 200
    assert client.app.state.services.answers.size == 0 and len(client.app.state.services.answers) == 0
