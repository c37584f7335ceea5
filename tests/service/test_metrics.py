"""`/metrics`: per-route counts and latencies, answer outcomes; multiprocess aggregation across processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from eval.bench.http_latency import server_timings
from tests.conftest import PROJECT
from tests.service.conftest import OFF_TOPIC, PO_QUESTION, ClientFactory


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_routes_by_template_and_answer_outcomes(make_client: ClientFactory) -> None:
    client = make_client()
    passage_id = client.post("/api/ask", json={"question": PO_QUESTION}).json()["citations"][0]["passage_id"]
    client.post("/api/ask", json={"question": OFF_TOPIC})
    client.post("/api/ask", json={"question": " "})
    client.get(f"/api/passages/{passage_id}")
    client.get("/api/passages/unknown-id")
    client.get("/no/such/page/12345")
    client.get("/static/search.css")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)

    assert _value(samples, "faq_answers_total", outcome="answered") == 1
    assert _value(samples, "faq_answers_total", outcome="abstained") == 1
    requests = "faq_http_requests_total"
    assert _value(samples, requests, route="/api/ask", method="POST", status="200") == 2
    assert _value(samples, requests, route="/api/ask", method="POST", status="422") == 1
    assert _value(samples, requests, route="/api/passages/{passage_id}", method="GET", status="200") == 1
    assert _value(samples, requests, route="/api/passages/{passage_id}", method="GET", status="404") == 1
    assert _value(samples, requests, route="unmatched", method="GET", status="404") == 1
    assert _value(samples, requests, route="/static/{path}", method="GET", status="200") == 1
    assert _value(samples, "faq_http_request_duration_seconds_count", route="/api/ask", method="POST") == 3
    assert _value(samples, "faq_http_request_duration_seconds_bucket", route="/api/ask", method="POST",
                  le="+Inf") == 3
    assert passage_id not in response.text and "12345" not in response.text  # raw paths never become labels


def test_each_app_has_its_own_registry(make_client: ClientFactory) -> None:
    first, second = make_client(), make_client()
    first.get("/api/topics")
    first.get("/api/topics")
    second.get("/api/topics")
    key = {"route": "/api/topics", "method": "GET", "status": "200"}
    assert _value(_samples(first.get("/metrics").text), "faq_http_requests_total", **key) == 2
    assert _value(_samples(second.get("/metrics").text), "faq_http_requests_total", **key) == 1


# Each run of this script is one worker process: it counts requests, then exits (a "restart").
_WORKER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from service.metrics import Metrics
    metrics = Metrics(Path(sys.argv[1]))
    for _ in range(int(sys.argv[2])):
        metrics.observe_request("/api/ask", "POST", 200, 0.02)
        metrics.observe_answer(True)
    metrics.observe_answer(False)
    sys.stdout.buffer.write(metrics.render())
""")


def _worker(metrics_dir: Path, requests: int) -> str:
    result = subprocess.run([sys.executable, "-c", _WORKER, str(metrics_dir), str(requests)], cwd=PROJECT,
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def test_multiprocess_metrics_add_up_across_workers_and_restarts(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    _worker(metrics_dir, 3)
    _worker(metrics_dir, 4)
    text = _worker(metrics_dir, 5)  # three processes (three pids): the last one reports the sum
    samples = _samples(text)
    assert _value(samples, "faq_http_requests_total", route="/api/ask", method="POST", status="200") == 12
    assert _value(samples, "faq_answers_total", outcome="answered") == 12
    assert _value(samples, "faq_answers_total", outcome="abstained") == 3
    assert _value(samples, "faq_http_request_duration_seconds_count", route="/api/ask", method="POST") == 12
    assert len(list(metrics_dir.glob("*.db"))) >= 3


def test_server_timing_tells_the_apps_time_and_retrievals_apart(make_client: ClientFactory) -> None:
    client = make_client(answer_cache_size=16)
    first = server_timings(client.post("/api/ask", json={"question": PO_QUESTION}))
    assert set(first) == {"app", "retrieval"}
    assert 0 < first["retrieval"] <= first["app"]
    repeat = server_timings(client.post("/api/ask", json={"question": PO_QUESTION}))
    assert set(repeat) == {"app"}  # answered from the answer cache: nothing retrieved
    assert repeat["app"] < first["retrieval"]
    assert set(server_timings(client.get("/healthz"))) == {"app"}
    assert set(server_timings(client.post("/api/ask", json={"question": " "}))) == {"app"}  # refused before retrieval
