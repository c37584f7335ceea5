"""The widget as users know it from MaxKB, Dify and FastGPT: keyboard-only use, both languages, Markdown,
copy, new chat, a conversation that survives reloads, suggested questions, feedback reasons, hand-off,
the JS API, a phone viewport, and the service's own landing and passage pages."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_widget import (
    ANSWERABLE,
    ASK,
    OFF_TOPIC,
    _fulfill_json,
    ask,
    open_widget,
    widget,
)

pytestmark = pytest.mark.browser

ACTIVE = """() => {
  const root = document.querySelector('faq-chat-widget').shadowRoot;
  const a = root.activeElement;
  return {inWidget: document.activeElement === document.querySelector('faq-chat-widget'),
          cls: a ? a.className : '', tag: a ? a.tagName : ''};
}"""


def active(page: Page) -> dict:
    return page.evaluate(ACTIVE)


def tab_until(page: Page, css_class: str, limit: int = 25) -> int:
    """Press Tab until the focused widget element has `css_class`; every stop must be inside the widget."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        now = active(page)
        assert now["inWidget"], f"focus left the widget after {presses} Tab presses"
        if css_class in now["cls"].split():
            return presses
    raise AssertionError(f"no .{css_class} reached with {limit} Tab presses")


def wait_for_reason(api, passage_id: str, timeout: float = 10.0) -> str:
    """The reason of the first thumbs-down with a reason for the passage (the log is shared by the session)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in api.feedback_records():
            if record.get("passage_id") == passage_id and record.get("reason"):
                assert record["helpful"] is False
                return record["reason"]
        time.sleep(0.1)
    raise AssertionError(f"no thumbs-down with a reason for {passage_id}: {api.feedback_records()}")


def keyboard_open(page: Page, url: str) -> None:
    page.goto(url)
    page.locator("#host-button").focus()
    page.keyboard.press("Tab")
    assert active(page)["cls"].startswith("launcher"), "Tab from the page reaches the launcher"
    page.keyboard.press("Enter")
    expect(widget(page).locator(".panel")).to_be_visible()
    assert active(page)["cls"] == "input"


def test_keyboard_only_ask_reach_links_vote_and_close(page: Page, site, api, screenshots):
    keyboard_open(page, site.page("keyboard.html", api.url))
    w = widget(page)
    page.keyboard.type(ANSWERABLE)
    page.keyboard.press("Enter")
    answer = w.locator(".msg.answer").first
    expect(answer).to_be_visible(timeout=30_000)
    assert active(page)["cls"] == "input", "focus is back in the input after the answer"

    # Tab from the input stays in the panel and reaches the answer's citation link.
    tab_until(page, "ctitle-link")
    page.screenshot(path=str(screenshots / "keyboard-citation-focused.png"))
    tab_until(page, "up")
    page.keyboard.press("Enter")
    expect(answer.locator(".feedback-label")).to_have_text("感谢您的反馈！")
    now = active(page)
    assert now["inWidget"] and "feedback-label" in now["cls"], "focus stays in the widget after voting"
    page.keyboard.press("Escape")
    expect(w.locator(".panel")).to_be_hidden()
    assert active(page)["cls"].startswith("launcher")

    # The last control (send) wraps to the first (new chat) and back.
    page.keyboard.press("Enter")
    expect(w.locator(".panel")).to_be_visible()
    page.keyboard.press("Tab")
    assert active(page)["cls"] == "send"
    page.keyboard.press("Tab")
    assert active(page)["cls"] == "newchat"
    page.keyboard.press("Shift+Tab")
    assert active(page)["cls"] == "send"


def test_keyboard_thumbs_down_with_a_reason(page: Page, site, api, screenshots):
    keyboard_open(page, site.page("keyboard-down.html", api.url))
    w = widget(page)
    page.keyboard.type(ANSWERABLE)
    page.keyboard.press("Enter")
    answer = w.locator(".msg.answer").first
    expect(answer).to_be_visible(timeout=30_000)
    tab_until(page, "down")
    page.keyboard.press("Enter")
    reasons = answer.locator(".reasons")
    expect(reasons).to_be_visible()
    assert active(page)["cls"] == "reason", "focus moves to the first reason"
    page.screenshot(path=str(screenshots / "keyboard-feedback-reasons.png"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(answer.locator(".feedback-label")).to_have_text("感谢您的反馈！")
    passage_id = answer.locator(".cite a").get_attribute("href").rsplit("/", 1)[-1]
    assert wait_for_reason(api, passage_id) == "outdated"
    assert active(page)["inWidget"]
    page.keyboard.press("Escape")
    expect(w.locator(".panel")).to_be_hidden()


def test_english_widget_marks_chinese_answers_and_refuses_in_english(page: Page, site, api, screenshots):
    open_widget(page, site.page("embed-en.html", api.url, 'data-lang="en"'))
    body, refusal = ask(page, OFF_TOPIC)
    assert body["lang"] == "en"
    expect(refusal).to_contain_text("Sorry")
    expect(refusal.locator(".other-lang")).to_have_count(0)
    widget(page).locator(".newchat").click()  # a new subject: not read as a follow-up of the refusal
    body, answer = ask(page, "How long does PO verification take?")
    assert body["lang"] == "en" and body["history"] == []
    expect(answer.locator(".other-lang")).to_have_text("Answer from the Chinese knowledge base")
    expect(answer).to_contain_text("10个工作日")
    page.screenshot(path=str(screenshots / "widget-en-chinese-answer.png"))


def test_chinese_widget_refuses_in_chinese_whatever_the_script(page: Page, site, api, screenshots):
    open_widget(page, site.page("embed.html", api.url))
    body, refusal = ask(page, "What is the capital of Australia?")
    assert body["lang"] == "zh"
    expect(refusal).to_have_class("msg bot answer noanswer")
    expect(refusal).to_contain_text("抱歉")
    expect(refusal).not_to_contain_text("Sorry")
    _, answer = ask(page, ANSWERABLE)
    expect(answer.locator(".other-lang")).to_have_count(0)
    page.screenshot(path=str(screenshots / "widget-zh-refusal.png"))


def test_markdown_follow_up_reading_and_hand_off(page: Page, site, api, screenshots):
    replies = [
        {"answered": True, "used_history": True, "read_as": "PO验证 超时怎么办",
         "answer": "**先看状态**，再处理：\n- 第一步 <b>不是标签</b>\n- 第二步 https://example.com/help?a=1\n"
                   "1. 编号一\n不是链接 javascript:alert(1) [x](javascript:alert(2))",
         "citations": [{"passage_id": "p1", "title": "t", "topic": "", "url": "/passages/p1", "score": 0.9,
                        "lang": "zh"}],
         "confidence": 0.9, "suggestions": []},
        {"answered": False, "answer": "抱歉，没有找到。", "citations": [], "confidence": 0.1, "suggestions": [],
         "used_history": False, "read_as": None, "handoff_url": "https://support.example.com/contact"},
    ]
    page.route(api.url + ASK, lambda route: _fulfill_json(route, 200, replies.pop(0), site.url))
    open_widget(page, site.page("embed.html", api.url))
    _, answer = ask(page, "超时了呢")
    expect(answer.locator(".read-as")).to_have_text("按上文理解为：PO验证 超时怎么办")
    expect(answer.locator(".body strong")).to_have_text("先看状态")
    expect(answer.locator(".body ul li")).to_have_count(2)
    expect(answer.locator(".body ol li")).to_have_text("编号一")
    links = answer.locator(".body a")
    expect(links).to_have_count(1)
    assert links.get_attribute("href") == "https://example.com/help?a=1"
    assert links.get_attribute("rel") == "noopener noreferrer"
    expect(answer.locator(".body")).to_contain_text("<b>不是标签</b>")
    expect(answer.locator(".body")).to_contain_text("[x](javascript:alert(2))")
    assert answer.locator("b, script, img").count() == 0
    _, refusal = ask(page, "还有别的吗")
    handoff = refusal.locator("a.handoff")
    expect(handoff).to_have_text("联系人工客服")
    assert handoff.get_attribute("href") == "https://support.example.com/contact"
    page.screenshot(path=str(screenshots / "widget-markdown-handoff.png"))


def test_copy_new_chat_and_suggested_questions(page: Page, context, site, api):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    open_widget(page, site.page("embed.html", api.url))
    w = widget(page)
    chips = w.locator(".greeting .chip")
    expect(chips.first).to_be_visible()
    suggested = json.loads(page.evaluate(
        f"() => fetch('{api.url}/api/suggested-questions?limit=4&lang=zh').then(r => r.text())"))
    assert chips.all_inner_texts() == [q["question"] for q in suggested["questions"]]

    with page.expect_request(lambda r: r.url.endswith(ASK)) as request:
        chips.first.click()
    assert json.loads(request.value.post_data)["question"] == suggested["questions"][0]["question"]
    expect(w.locator(".msg.answer")).to_have_count(1, timeout=30_000)
    _, answer = ask(page, ANSWERABLE)
    answer.locator(".copy").click()
    expect(answer.locator(".copy")).to_have_text("已复制")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "10个工作日" in copied and copied == answer.locator(".body").inner_text()

    w.locator(".newchat").click()
    expect(w.locator(".msg.answer")).to_have_count(0)
    expect(w.locator(".msg.user")).to_have_count(0)
    expect(w.locator(".greeting")).to_have_count(1)
    body, _ = ask(page, ANSWERABLE)
    assert body["history"] == []


def test_conversation_survives_reloads_and_pages_of_the_site(page: Page, site, api, screenshots):
    first = site.page("page-one.html", api.url)
    second = site.page("page-two.html", api.url)
    open_widget(page, first)
    _, answer = ask(page, ANSWERABLE)
    answer_text = answer.locator(".body").inner_text()
    page.reload()
    w = widget(page)
    expect(w.locator(".panel")).to_be_visible()  # it was open: it opens again
    expect(w.locator(".msg.user")).to_have_text([f"您: {ANSWERABLE}"])
    expect(w.locator(".msg.answer .body")).to_have_text([answer_text])
    page.goto(second)
    expect(w.locator(".msg.answer")).to_have_count(1)
    body, _ = ask(page, "如果超过时间还没验证怎么办", answers_before=1)
    assert [turn["question"] for turn in body["history"]] == [ANSWERABLE]
    page.screenshot(path=str(screenshots / "widget-restored-on-another-page.png"))


def test_js_api_opens_with_question_and_page_context(page: Page, site, api):
    page.goto(site.page("embed.html", api.url))
    w = widget(page)
    page.wait_for_function("() => window.FAQWidget && typeof window.FAQWidget.open === 'function'")
    page.evaluate("() => FAQWidget.open({question: '多久能验证完', context: '机会点/PO验证'})")
    expect(w.locator(".panel")).to_be_visible()
    assert w.locator("textarea").input_value() == "多久能验证完"
    expect(w.locator(".context")).to_have_text("当前页面：机会点/PO验证")
    with page.expect_request(lambda r: r.url.endswith(ASK)) as request:
        w.locator("textarea").press("Enter")
    body = json.loads(request.value.post_data)
    assert body["question"] == "多久能验证完"
    assert body["history"] == [{"question": "机会点/PO验证", "answer": ""}]
    expect(w.locator(".msg.answer")).to_have_count(1, timeout=30_000)


def test_phone_390x844(browser, site, api, screenshots):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        page = context.new_page()
        open_widget(page, site.page("embed.html", api.url))
        _, answer = ask(page, ANSWERABLE)
        expect(answer.locator(".cite a")).to_be_visible()
        w = widget(page)
        for css in (".panel", ".newchat", ".close", "textarea", ".send"):
            box = w.locator(css).first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, css
            assert box["y"] >= 0 and box["y"] + box["height"] <= 844, css
        assert w.locator(".panel").bounding_box()["width"] >= 360
        page.screenshot(path=str(screenshots / "widget-phone-390x844.png"))
        page.goto(api.url + "/")
        expect(page.locator("h1")).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(screenshots / "landing-phone-390x844.png"), full_page=True)
    finally:
        context.close()


def test_landing_page_examples_open_the_live_widget(page: Page, api, screenshots):
    page.goto(api.url + "/")
    examples = page.locator(".examples .ask")
    expect(examples).to_have_count(4)
    question = examples.first.inner_text()
    page.wait_for_function("() => !!window.FAQWidget")
    with page.expect_request(lambda r: r.url.endswith(ASK)) as request:
        examples.first.click()
    assert json.loads(request.value.post_data)["question"] == question
    w = widget(page)
    expect(w.locator(".msg.answer")).to_have_count(1, timeout=30_000)
    page.screenshot(path=str(screenshots / "landing-with-widget.png"))
    w.locator(".close").click()
    page.locator("#landing-q").fill("PSM")
    page.locator("#landing-q").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=PSM$"))
    expect(page.locator("#results li").first).to_be_visible()


def test_passage_page_breadcrumb_related_and_ask(page: Page, api, screenshots):
    hit = json.loads(page.request.get(api.url + "/api/search?q=PSM").text())["results"][0]
    page.goto(f"{api.url}/passages/{hit['passage_id']}")
    expect(page.locator("h1")).to_have_text(hit["title"])
    crumbs = page.locator("nav.crumbs a")
    expect(crumbs).to_have_count(3)
    expect(page.locator("h2", has_text="相关条目")).to_be_visible()
    page.screenshot(path=str(screenshots / "passage-page.png"), full_page=True)
    page.wait_for_function("() => !!window.FAQWidget")
    with page.expect_request(lambda r: r.url.endswith(ASK)) as request:
        page.locator("a.ask").click()
    assert json.loads(request.value.post_data)["question"] == hit["title"]
    expect(widget(page).locator(".msg.answer")).to_have_count(1, timeout=30_000)
    widget(page).locator(".close").click()
    crumbs.nth(2).click()
    page.wait_for_url(re.compile(r"/search\?q=[^&]+&topic=."))
    expect(page.locator("#results li").first).to_be_visible()
