"""The embeddable chat widget, loaded cross-origin with one tag on a hostile customer page."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

ANSWERABLE = "PO提交后多久能验证完"
OFF_TOPIC = "今天北京天气怎么样"
ASK = "/api/ask"

# Every element the widget drew, and every link in it: script-free and http(s) only.
WIDGET_AUDIT = """() => {
  const root = document.querySelector('faq-chat-widget').shadowRoot;
  return {
    xss: window.__xss === undefined ? null : String(window.__xss),
    dangerous: root.querySelectorAll('script, img, iframe, object, embed, svg:not([aria-hidden]), b, i').length,
    hrefs: [...root.querySelectorAll('a[href]')].map(a => a.href),
    text: root.querySelector('.messages').innerText,
  };
}"""


def widget(page: Page):
    return page.locator("faq-chat-widget")


def open_widget(page: Page, url: str):
    page.goto(url)
    launcher = widget(page).locator(".launcher")
    expect(launcher).to_be_visible()
    launcher.click()
    panel = widget(page).locator(".panel")
    expect(panel).to_be_visible()
    return panel


def ask(page: Page, question: str, answers_before: int | None = None):
    """Type a question, press Enter, and return (the request body sent, the new answer bubble)."""
    w = widget(page)
    answers = w.locator(".msg.answer")
    count = answers.count() if answers_before is None else answers_before
    box = w.locator("textarea")
    box.fill(question)
    with page.expect_request(lambda r: r.url.endswith(ASK) and r.method == "POST") as request:
        box.press("Enter")
    expect(answers).to_have_count(count + 1, timeout=30_000)
    return json.loads(request.value.post_data), answers.nth(count)


def active_class(page: Page) -> str:
    return page.evaluate(
        "() => { const r = document.querySelector('faq-chat-widget').shadowRoot;"
        " return r.activeElement ? r.activeElement.className : ''; }")


def wait_for_feedback(api, passage_id: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in api.feedback_records():
            if record.get("passage_id") == passage_id:
                return record
        time.sleep(0.1)
    raise AssertionError(f"no feedback for {passage_id} in {api.feedback_log}: {api.feedback_records()}")


def test_answer_with_citation_follow_up_and_feedback(page: Page, site, api, screenshots):
    url = site.page("embed.html", api.url, 'data-title="合作伙伴帮助"')
    panel = open_widget(page, url)
    w = widget(page)

    # Cross-origin, isolated: the page and the API are different origins; host CSS didn't get in.
    assert urlsplit(page.url).port != urlsplit(api.url).port
    expect(panel).to_have_attribute("role", "dialog")
    expect(w.locator(".messages")).to_have_attribute("aria-live", "polite")
    expect(w.locator(".title")).to_have_text("合作伙伴帮助")
    assert active_class(page) == "input", "focus moves to the input when the panel opens"
    page.mouse.move(0, 0)  # off the button: not hovered, its own colour settles
    page.wait_for_function("""() => getComputedStyle(document.querySelector('faq-chat-widget').shadowRoot
      .querySelector('.launcher')).backgroundColor === 'rgb(37, 99, 235)'""")
    styles = page.evaluate("""() => {
      const root = document.querySelector('faq-chat-widget').shadowRoot;
      const css = el => getComputedStyle(el);
      return {launcher: css(root.querySelector('.launcher')).backgroundColor,
              font: css(root.querySelector('.msg')).fontFamily, size: css(root.querySelector('.msg')).fontSize,
              spacing: css(root.querySelector('.msg')).letterSpacing,
              host: css(document.getElementById('host-button')).backgroundColor};
    }""")
    assert styles["launcher"] == "rgb(37, 99, 235)"
    assert "Courier" not in styles["font"] and styles["size"] == "14px" and styles["spacing"] == "normal"
    assert styles["host"] == "rgb(255, 0, 0)", "the widget's CSS must not leak into the host page"

    # A typing indicator shows while the answer is on its way.
    page.evaluate("""() => {
      const list = document.querySelector('faq-chat-widget').shadowRoot.querySelector('.messages');
      window.__sawTyping = false;
      new MutationObserver(() => { if (list.querySelector('.typing')) window.__sawTyping = true; })
        .observe(list, {childList: true});
    }""")
    body, answer = ask(page, ANSWERABLE)
    assert body == {"question": ANSWERABLE, "history": [], "lang": "zh"}
    assert page.evaluate("window.__sawTyping") is True
    expect(w.locator(".typing")).to_have_count(0)
    expect(w.locator(".msg.user").last).to_contain_text(ANSWERABLE)
    expect(answer).not_to_have_class("msg bot answer noanswer")
    expect(answer).to_contain_text("验证")
    cite = answer.locator(".cite")
    expect(cite).to_contain_text("来源: ")
    expect(cite).to_contain_text("父主题: ")
    link = cite.locator("a")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    href = link.get_attribute("href")
    assert href.startswith(api.url + "/passages/"), href
    page.screenshot(path=str(screenshots / "widget-answer.png"))

    # Thumbs up: posted to the API (logged to FAQ_FEEDBACK_LOG), then a thank-you state.
    passage_id = href.rsplit("/", 1)[-1]
    answer.locator(".vote.up").click()
    expect(answer.locator(".feedback-label")).to_have_text("感谢您的反馈！")
    expect(answer.locator(".vote.up")).to_have_attribute("aria-pressed", "true")
    expect(answer.locator(".vote.down")).to_be_disabled()
    record = wait_for_feedback(api, passage_id)
    assert record["helpful"] is True and record["question"] == ANSWERABLE

    # A follow-up carries the conversation so far.
    body, follow_up = ask(page, "如果超过时间还没验证怎么办")
    assert [turn["question"] for turn in body["history"]] == [ANSWERABLE]
    assert body["history"][0]["answer"] and body["history"][0]["answer"] in answer.text_content()
    expect(follow_up).to_be_visible()


def test_no_answer_offers_suggestions_that_ask(page: Page, site, api, screenshots):
    open_widget(page, site.page("embed.html", api.url, 'data-title="合作伙伴帮助"'))
    w = widget(page)
    _, answer = ask(page, OFF_TOPIC)
    expect(answer).to_have_class("msg bot answer noanswer")
    expect(answer).to_contain_text("抱歉")
    chips = answer.locator(".chip")
    expect(chips.first).to_be_visible()
    assert chips.count() >= 1
    assert answer.locator(".vote").count() == 0
    page.screenshot(path=str(screenshots / "widget-no-answer.png"))

    title = chips.first.inner_text()
    with page.expect_request(lambda r: r.url.endswith(ASK) and r.method == "POST") as request:
        chips.first.click()
    body = json.loads(request.value.post_data)
    assert body["question"] == title
    assert body["history"][0]["question"] == OFF_TOPIC
    expect(w.locator(".msg.user").last).to_have_text(f"您: {title}")
    expect(w.locator(".msg.answer")).to_have_count(2, timeout=30_000)


def test_keyboard_enter_shift_enter_escape(page: Page, site, api):
    url = site.page("embed-en.html", api.url, 'data-lang="en" data-position="bottom-left"')
    page.goto(url)
    w = widget(page)
    launcher = w.locator(".launcher")
    expect(launcher).to_have_attribute("aria-label", "Open help chat")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    box = launcher.bounding_box()
    assert box["x"] < 100, "data-position=bottom-left puts the button on the left"

    launcher.focus()
    page.keyboard.press("Enter")
    expect(w.locator(".panel")).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    assert active_class(page) == "input"
    expect(w.locator(".greeting")).to_contain_text("How can we help")

    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    assert w.locator("textarea").input_value() == "first line\nsecond line"
    expect(w.locator(".msg.user")).to_have_count(0)
    page.keyboard.press("Enter")
    expect(w.locator(".msg.user")).to_have_count(1)
    expect(w.locator(".msg.answer")).to_have_count(1, timeout=30_000)
    assert w.locator("textarea").input_value() == ""

    page.keyboard.press("Escape")
    expect(w.locator(".panel")).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert active_class(page).startswith("launcher"), "focus returns to the button on close"


def test_phone_width(browser, site, api, screenshots):
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        page = context.new_page()
        open_widget(page, site.page("embed.html", api.url, 'data-title="合作伙伴帮助"'))
        _, answer = ask(page, ANSWERABLE)
        expect(answer.locator(".cite a")).to_be_visible()
        panel = widget(page).locator(".panel").bounding_box()
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 375
        assert panel["width"] >= 340, "the panel uses the phone's width"
        assert panel["y"] >= 0 and panel["y"] + panel["height"] <= 740
        no_overflow = page.evaluate("""() => {
          const root = document.querySelector('faq-chat-widget').shadowRoot;
          return [...root.querySelectorAll('.msg, .cite, .chip')].every(el => el.scrollWidth <= el.clientWidth + 1);
        }""")
        assert no_overflow
        page.screenshot(path=str(screenshots / "widget-phone-375.png"))
    finally:
        context.close()


def test_user_typed_markup_is_text(page: Page, site, api):
    open_widget(page, site.page("embed.html", api.url))
    question = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> 怎么验证PO'
    body, _ = ask(page, question)
    assert body["question"] == question
    expect(widget(page).locator(".msg.user").last).to_have_text(f"您: {question}")
    audit = page.evaluate(WIDGET_AUDIT)
    assert audit["xss"] is None and audit["dangerous"] == 0
    assert "<script>window.__xss=1</script>" in audit["text"]


def test_markup_in_the_knowledge_base_is_text(page: Page, site, xss_api, screenshots):
    """Titles, answers and topics full of tags (scrape and JSONL) render as text; no unsafe links."""
    open_widget(page, site.page("embed-xss.html", xss_api.url))
    for question in ("JSONL问题怎么办", "问题<script>window.__xss=1</script>?"):
        _, answer = ask(page, question)
        # Answer, citation title, 父主题 and suggestion chips all come from the marked-up passages.
        expect(answer.locator(".chip").first).to_be_visible()
    audit = page.evaluate(WIDGET_AUDIT)
    assert audit["xss"] is None, f"a payload ran: window.__xss={audit['xss']}"
    assert audit["dangerous"] == 0
    assert "<script>" in audit["text"]
    assert all(urlsplit(h).scheme in ("http", "https") for h in audit["hrefs"]), audit["hrefs"]
    assert all(urlsplit(h).netloc == urlsplit(xss_api.url).netloc for h in audit["hrefs"]), audit["hrefs"]
    page.screenshot(path=str(screenshots / "widget-escaped-markup.png"))


def _fulfill_json(route, status: int, payload: object, origin: str) -> None:
    route.fulfill(status=status, content_type="application/json", body=json.dumps(payload),
                  headers={"Access-Control-Allow-Origin": origin})


def test_citation_links_only_for_safe_urls(page: Page, site, api):
    """Relative URLs resolve against the widget's origin; javascript:/data: URLs are plain text."""
    answer_json = {
        "answered": True,
        "answer": "答案里有 <b>标签</b>",
        "citations": [
            {"passage_id": "p1", "title": "相对链接", "topic": "主题A", "url": "/passages/p1", "score": 0.9},
            {"passage_id": "p2", "title": "外部链接", "topic": "", "url": "https://example.com/faq?id=2", "score": 0.8},
            {"passage_id": "p3", "title": "脚本链接", "topic": "", "url": "javascript:alert(1)", "score": 0.7},
            {"passage_id": "p4", "title": "数据链接", "topic": "", "url": " data:text/html,<script>alert(1)</script>",
             "score": 0.6},
            {"passage_id": "p5", "title": "伪装链接", "topic": "", "url": "java\tscript:alert(1)", "score": 0.5},
            {"passage_id": "p6", "title": "无链接", "topic": "", "url": None, "score": 0.4},
        ],
        "confidence": 0.9,
        "suggestions": [],
    }
    page.route(api.url + ASK, lambda route: _fulfill_json(route, 200, answer_json, site.url))
    open_widget(page, site.page("embed.html", api.url))
    _, answer = ask(page, "随便问问")
    links = answer.locator(".cite a")
    expect(links).to_have_count(2)
    assert links.nth(0).get_attribute("href") == api.url + "/passages/p1"
    assert links.nth(1).get_attribute("href") == "https://example.com/faq?id=2"
    for title in ("脚本链接", "数据链接", "伪装链接", "无链接"):
        expect(answer.locator(".cite .ctitle", has_text=title)).to_have_count(1)
    expect(answer.locator(".cite").first).to_have_text("来源: 相对链接 · 父主题: 主题A")
    expect(answer.locator(".cite").nth(1)).to_have_text("来源: 外部链接")
    expect(answer).to_contain_text("答案里有 <b>标签</b>")
    assert page.evaluate(WIDGET_AUDIT)["dangerous"] == 0


@pytest.mark.parametrize(
    ("status", "message"),
    [(429, "提问太频繁"), (413, "问题太长"), (500, "服务暂时不可用"), (0, "网络连接出现问题")],
)
def test_errors_show_a_friendly_message(page: Page, site, api, status, message):
    def handle(route):
        if status:
            _fulfill_json(route, status, {"detail": "x"}, site.url)
        else:
            route.abort("connectionrefused")

    page.route(api.url + ASK, handle)
    open_widget(page, site.page("embed.html", api.url))
    w = widget(page)
    w.locator("textarea").fill("PO验证要多久")
    w.locator("textarea").press("Enter")
    error = w.locator(".msg.error")
    expect(error).to_contain_text(message)
    expect(error).to_have_attribute("role", "alert")
    expect(w.locator(".typing")).to_have_count(0)
    expect(w.locator(".send")).to_be_enabled()
    if status in (0, 429, 500):
        page.unroute(api.url + ASK)
        error.locator(".retry").click()
        expect(w.locator(".msg.answer")).to_have_count(1, timeout=30_000)
        expect(w.locator(".msg.user")).to_have_count(1)
