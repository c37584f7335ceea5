"""axe-core (axe-playwright-python) on every page a user meets: no serious or critical violation.

The admin console is checked in `test_console.py`, behind its token.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_widget import ANSWERABLE, OFF_TOPIC, ask, open_widget

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")


def blocking_violations(page: Page, screenshots, name: str) -> list[str]:
    """Run axe on the page as it is (the widget's open Shadow DOM included); screenshot it; list what blocks."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    page.screenshot(path=str(screenshots / f"axe-{name}.png"), full_page=True)
    (screenshots / f"axe-{name}.json").write_text(json.dumps(results.response["violations"], indent=1),
                                                  encoding="utf-8")
    return [f"{v['impact']}: {v['id']} — {v['help']} ({[n['target'] for n in v['nodes']]})"
            for v in results.response["violations"] if v["impact"] in BLOCKING]


def test_landing_page(page: Page, api, screenshots):
    page.goto(api.url + "/")
    expect(page.locator(".examples .ask").first).to_be_visible()
    assert blocking_violations(page, screenshots, "landing") == []


def test_search_page_with_results(page: Page, api, screenshots):
    page.goto(api.url + "/search?q=PSM")
    expect(page.locator("#results li").first).to_be_visible()
    assert blocking_violations(page, screenshots, "search") == []


def test_passage_page(page: Page, api, screenshots):
    hit = json.loads(page.request.get(api.url + "/api/search?q=PSM").text())["results"][0]
    page.goto(f"{api.url}/passages/{hit['passage_id']}")
    expect(page.locator("h1")).to_be_visible()
    assert blocking_violations(page, screenshots, "passage") == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_open_widget_with_an_answer_a_refusal_and_reasons(page: Page, site, api, screenshots, lang):
    open_widget(page, site.page(f"axe-{lang}.html", api.url, f'data-lang="{lang}"'))
    _, answer = ask(page, ANSWERABLE)
    ask(page, OFF_TOPIC)
    answer.locator(".vote.down").click()
    expect(answer.locator(".reasons")).to_be_visible()
    assert blocking_violations(page, screenshots, f"widget-{lang}") == []


def test_axe_sees_inside_the_widget(page: Page, site, api, screenshots):
    """The check above can fail: low-contrast text inside the widget's Shadow DOM is reported."""
    open_widget(page, site.page("axe-probe.html", api.url))
    page.evaluate("""() => {
      const p = document.createElement('p');
      p.style.color = '#c0c0c0';
      p.textContent = '低对比度的文字 low contrast text';
      document.querySelector('faq-chat-widget').shadowRoot.querySelector('.footer').after(p);
    }""")
    assert any("color-contrast" in v for v in blocking_violations(page, screenshots, "probe"))
