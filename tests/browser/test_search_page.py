"""The staff keyword-search page (/search): highlights, topic filter, paging, URL state, keyboard."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

MANY = "CDN"  # matches the 30 CDN records indexed next to the corpus: several pages of 10
CDN_TOPIC = "CDN与加速/内容分发网络 CDN"

RESULTS_AUDIT = """() => {
  const list = document.getElementById('results');
  return {
    xss: window.__xss === undefined ? null : String(window.__xss),
    dangerous: list.querySelectorAll('script, img, iframe, svg, b, i, a:not([href])').length,
    marks: [...list.querySelectorAll('mark')].map(m => [m.textContent, m.attributes.length]),
    hrefs: [...document.querySelectorAll('#results a[href], #pager a[href]')].map(a => a.href),
    text: list.innerText,
  };
}"""


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query, keep_blank_values=True)


def titles(page: Page) -> list[str]:
    return page.locator("#results .result-title").all_inner_texts()


def search_for(page: Page, text: str) -> None:
    box = page.locator("#q")
    box.fill(text)
    box.press("Enter")


def test_search_highlights_and_url_state(page: Page, api, screenshots):
    page.goto(api.url + "/search")
    expect(page.locator("#q")).to_be_focused()
    expect(page.locator("#status")).to_contain_text("输入关键词")

    # "/" focuses the search box from anywhere else on the page.
    page.locator(".btn-primary").focus()
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    assert page.locator("#q").input_value() == ""

    search_for(page, "PSM")
    expect(page.locator("#results .result").first).to_be_visible()
    assert query_of(page) == {"q": ["PSM"]}
    expect(page).to_have_title("PSM - 知识库搜索")
    total = int(page.locator("#status .total").inner_text())
    assert total == json.loads(page.request.get(f"{api.url}/api/search?q=PSM").text())["total"] > 0
    audit = page.evaluate(RESULTS_AUDIT)
    assert audit["marks"] and all(text.upper() == "PSM" and attrs == 0 for text, attrs in audit["marks"])
    first = page.locator("#results .result").first
    expect(first.locator(".chip")).to_be_visible()
    expect(first.locator(".score")).to_contain_text("相关度")
    link = first.locator("a.result-link")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    assert link.get_attribute("href").startswith(api.url + "/passages/")
    page.screenshot(path=str(screenshots / "search-highlights.png"), full_page=True)

    # The URL is the state: opening it directly gives the same page.
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.locator("#q")).to_have_value("PSM")
    expect(other.locator("#results .result")).to_have_count(min(total, 10))
    assert titles(other) == titles(page)
    other.close()


def test_topic_filter(page: Page, api):
    topics = json.loads(page.request.get(api.url + "/api/topics").text())
    page.goto(f"{api.url}/search?q={MANY}")
    expect(page.locator("#results .result").first).to_be_visible()
    options = page.locator("#topic option")
    expect(options).to_have_count(len(topics) + 1)
    expect(options.first).to_have_text("全部主题")
    unfiltered = int(page.locator("#status .total").inner_text())

    page.locator("#topic").select_option(label=next(
        f"{t['topic']} ({t['count']})" for t in topics if t["topic"] == CDN_TOPIC))
    expect(page.locator("#status")).to_contain_text("主题：" + CDN_TOPIC)
    assert query_of(page) == {"q": [MANY], "topic": [CDN_TOPIC]}
    chips = page.locator("#results .chip").all_inner_texts()
    assert chips and set(chips) == {CDN_TOPIC}
    assert int(page.locator("#status .total").inner_text()) <= unfiltered

    # A topic with nothing matching gives the empty state, with a way back to all topics.
    other = next(t["topic"] for t in topics if t["topic"] not in ("", CDN_TOPIC))
    page.goto(f"{api.url}/search?q=zzqxwv&topic={other}")
    expect(page.locator("#topic")).to_have_value("t:" + other)
    expect(page.locator("#status")).to_contain_text("没有找到")
    page.locator("#status .btn-link").click()
    expect(page.locator("#topic")).to_have_value("")
    assert query_of(page) == {"q": ["zzqxwv"]}

    page.go_back()
    expect(page.locator("#topic")).to_have_value("t:" + other)


def test_paging_and_back_forward(page: Page, api, screenshots):
    page.goto(f"{api.url}/search?q={MANY}")
    expect(page.locator("#results .result")).to_have_count(10)
    total = int(page.locator("#status .total").inner_text())
    pages = -(-total // 10)
    assert pages >= 3, f"need several pages, got {total} results"
    first_page = titles(page)
    pager = page.locator("#pager")
    expect(pager).to_have_attribute("aria-label", "分页")
    expect(pager.locator("[aria-current=page]")).to_have_text("1")
    expect(pager.locator(".prev")).to_have_attribute("aria-disabled", "true")

    pager.get_by_role("link", name="第 2 页").click()
    expect(pager.locator("[aria-current=page]")).to_have_text("2")
    assert query_of(page) == {"q": [MANY], "page": ["2"]}
    expect(page.locator("#status")).to_be_focused()
    second_page = titles(page)
    assert second_page and not set(second_page) & set(first_page)
    expect(page.locator("#results")).to_have_attribute("start", "11")
    page.screenshot(path=str(screenshots / "search-page-2.png"), full_page=True)

    # Keyboard: the pager is plain links, reachable with Tab and followed with Enter.
    pager.locator(".next").focus()
    page.keyboard.press("Enter")
    expect(pager.locator("[aria-current=page]")).to_have_text("3")
    assert query_of(page)["page"] == ["3"]

    page.go_back()
    expect(pager.locator("[aria-current=page]")).to_have_text("2")
    assert titles(page) == second_page
    page.go_back()
    expect(pager.locator("[aria-current=page]")).to_have_text("1")
    assert titles(page) == first_page
    page.go_forward()
    expect(pager.locator("[aria-current=page]")).to_have_text("2")

    page.goto(f"{api.url}/search?q={MANY}&page={pages}")
    expect(pager.locator(".next")).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#results .result")).to_have_count(total - 10 * (pages - 1))


def test_keyboard_navigation(page: Page, api):
    page.goto(f"{api.url}/search?q={MANY}")
    expect(page.locator("#results .result")).to_have_count(10)
    links = page.locator("#results .result-link")

    # Tab order: box → topic → button.
    page.locator("#q").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#topic")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(".btn-primary")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "keyboard focus is visible"

    # Arrows move through the results, and back up into the box.
    page.locator("#q").focus()
    page.keyboard.press("ArrowDown")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(links.nth(2)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#q")).to_be_focused()

    # Enter opens the focused result (in a new tab, on this service's passage page).
    page.keyboard.press("ArrowDown")
    title = links.nth(0).inner_text()
    with page.context.expect_page() as opened:
        page.keyboard.press("Enter")
    passage = opened.value
    passage.wait_for_load_state()
    assert passage.url.startswith(api.url + "/passages/")
    expect(passage.locator("h1")).to_have_text(title)
    passage.close()


def test_loading_empty_and_error_states(page: Page, api):
    page.goto(api.url + "/search")
    status = page.evaluate("""() => {
      document.getElementById('q').value = 'PSM';
      document.getElementById('search-form').requestSubmit();
      return [document.getElementById('status').textContent, document.body.classList.contains('is-loading')];
    }""")
    assert status == ["正在搜索…", True]
    expect(page.locator("#results .result").first).to_be_visible()
    expect(page.locator("body")).not_to_have_class("is-loading")

    search_for(page, "qqzzxxwv")
    expect(page.locator("#status")).to_contain_text("没有找到与 “qqzzxxwv” 相关的结果")
    expect(page.locator("#results .result")).to_have_count(0)
    expect(page.locator("#pager")).to_be_hidden()

    page.route("**/api/search?*", lambda route: route.fulfill(status=500, body="{}"))
    search_for(page, "PSM 发票")
    error = page.locator("#error")
    expect(error).to_contain_text("搜索服务暂时不可用")
    expect(error).to_have_attribute("role", "alert")
    page.unroute("**/api/search?*")
    error.get_by_role("button", name="重试").click()
    expect(error).to_be_hidden()
    expect(page.locator("#results .result").first).to_be_visible()


def test_snippet_sanitiser_keeps_only_text_and_mark(page: Page, api):
    """Even if the server sent markup, only text and bare <mark> elements reach the page."""
    payload = {"total": 1, "results": [{
        "passage_id": "p1", "title": "<b>标题</b>", "topic": "<i>主题</i>", "url": "javascript:alert(1)", "score": 1.5,
        "snippet": ('前<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
                    '<mark onclick="window.__xss=3" style="color:red">命中</mark><b>粗</b>'
                    '<a href="javascript:alert(1)">链</a><svg onload="window.__xss=4"></svg>后 &lt;script&gt;'),
    }]}
    page.route("**/api/search?*", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(payload)))
    page.goto(api.url + "/search?q=x")
    snippet = page.locator("#results .snippet")
    expect(snippet).to_have_text("前命中粗链后 <script>")
    page.wait_for_timeout(100)
    audit = page.evaluate(RESULTS_AUDIT)
    assert audit["xss"] is None
    assert audit["dangerous"] == 0
    assert audit["marks"] == [["命中", 0]]
    assert snippet.evaluate("el => [...el.childNodes].map(n => n.nodeName)") == ["#text", "MARK", "#text"]
    expect(page.locator("#results .result-title")).to_have_text("<b>标题</b>")
    expect(page.locator("#results .chip")).to_have_text("<i>主题</i>")
    assert page.locator("#results a").count() == 0, "a javascript: URL is not a link"


def test_markup_in_the_knowledge_base_is_text(page: Page, xss_api, screenshots):
    page.goto(xss_api.url + "/search?q=问题")
    expect(page.locator("#results .result").first).to_be_visible()
    options = page.locator("#topic option").all_inner_texts()
    assert any(o.startswith("测试<b>主题</b>") for o in options), options
    audit = page.evaluate(RESULTS_AUDIT)
    assert audit["xss"] is None
    assert audit["dangerous"] == 0
    assert "问题<script>window.__xss=1</script>?" in audit["text"]
    assert audit["marks"] and all(attrs == 0 for _, attrs in audit["marks"])
    assert all(urlsplit(h).scheme in ("http", "https") for h in audit["hrefs"]), audit["hrefs"]
    assert all(urlsplit(h).netloc == urlsplit(xss_api.url).netloc for h in audit["hrefs"]), audit["hrefs"]
    page.screenshot(path=str(screenshots / "search-escaped-markup.png"), full_page=True)

    page.goto(xss_api.url + "/search?q=JSONL")
    expect(page.locator("#results .result").first).to_be_visible()
    audit = page.evaluate(RESULTS_AUDIT)
    assert audit["xss"] is None and audit["dangerous"] == 0
    assert "window.__xss=3" in audit["text"], "the JSONL question's markup is gone, its text shown as text"
    assert all(urlsplit(h).scheme in ("http", "https") for h in audit["hrefs"]), audit["hrefs"]
