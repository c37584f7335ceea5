"""A question that asks how long, how much or how many is answered only by a passage that states one."""

from __future__ import annotations

import pytest

from ingest.passage import Passage
from retrieval.answer_kinds import AMOUNT, COUNT, DURATION, asked_kinds, stated_kinds, unstated_kinds
from retrieval.retriever import Retriever


@pytest.mark.parametrize(("question", "kinds"), [
    ("MDF费用核销后多久能到账", {DURATION}),
    ("经销商账单一般每月几号生成？", {DURATION}),
    ("几个工作日能审完", {DURATION}),
    ("How long does the review take?", {DURATION}),
    ("how many days until approval", {DURATION}),
    ("差异化认证需要交费吗", {AMOUNT}),
    ("华为云HCIP认证考试多少钱", {AMOUNT}),
    ("开通这个功能要花钱吗", {AMOUNT}),
    ("How much does the certification cost?", {AMOUNT}),
    ("那最多能建多少个员工账号？", {COUNT}),
    ("how many roles can an employee have?", {COUNT}),
    ("怎么申请发票", set()),
    ("具体要哪几个月的单号?", set()),  # which ones, not how many
    ("How do I reset my password?", set()),
])
def test_the_kind_of_answer_a_question_asks_for(question: str, kinds: set[str]) -> None:
    assert asked_kinds(question) == kinds


@pytest.mark.parametrize(("text", "kind"), [
    ("账单在每个月的第2天或第3天生成", DURATION),
    ("预计1-3个工作日到账", DURATION),
    ("审核通常在两个工作日内完成", DURATION),
    ("病毒库：每周一次。", DURATION),
    ("转换存储类型取决于视频的大小", DURATION),
    ("Approval usually takes two business days.", DURATION),
    ("It is applied within an hour.", DURATION),
    ("几分钟内生效", DURATION),
    ("该服务免费", AMOUNT),
    ("本功能不收取任何费用", AMOUNT),
    ("The fee is $20 per month.", AMOUNT),
    ("最多可创建50个", COUNT),
    ("不同的资源有不同的创建数量限制", COUNT),
    ("You can add up to ten users.", COUNT),
])
def test_a_stated_answer_of_each_kind_is_recognised(text: str, kind: str) -> None:
    assert kind in stated_kinds(text)


@pytest.mark.parametrize("text", ["请联系销售经理加白", "在伙伴中心点击申请认证即可", "Contact your account manager."])
def test_a_text_stating_no_duration_amount_or_number_states_none(text: str) -> None:
    assert stated_kinds(text) == frozenset()


def _passage(title: str, answer: str) -> Passage:
    return Passage.create(title=title, answer=answer, topic="", source="test", kind="faq")


def test_a_passage_that_states_no_such_answer_leaves_the_asked_kind_unstated() -> None:
    steps = _passage("伙伴提交使用申请", "登录伙伴中心，在MDF页面点击申请，填写活动信息后提交。")
    assert unstated_kinds("MDF费用核销后多久能到账", steps) == {DURATION}
    timed = _passage("MDF到账时间", "核销审核通过后，款项在10个工作日内到账。")
    assert unstated_kinds("MDF费用核销后多久能到账", timed) == frozenset()


def test_a_passage_that_is_only_a_question_is_not_held_to_the_kind() -> None:
    # Question-matching corpora (Tianchi, BQ) answer by matching questions: the "answer" repeats the title.
    question_only = _passage("肺炎支原体检查多久出结果？", "肺炎支原体检查多久出结果？")
    assert unstated_kinds("支原体检查结果多长时间能出来", question_only) == frozenset()


def test_a_question_whose_answer_states_no_amount_is_refused(retriever: Retriever) -> None:
    # The top passage is about the same certification, and says nothing of a fee.
    about_fee = retriever.ask("先进云软件方案认证要收费吗")
    assert retriever.index.passage(about_fee.ranked_ids[0]).title.startswith("先进云软件方案认证")
    assert not about_fee.answered and about_fee.confidence == 0.0
    about_its_subject = retriever.ask("先进云软件方案认证通过后能直接进阶到差异化认证吗")
    assert about_its_subject.answered


def test_a_question_whose_answer_states_the_duration_is_answered(retriever: Retriever) -> None:
    result = retriever.ask("PO提交了要等多久才能验证完")
    assert result.answered and "10个工作日" in result.answer


def test_a_follow_up_is_held_to_what_it_asks_itself_not_to_what_the_history_asked(retriever: Retriever) -> None:
    # The joined reading's text asks "多久"; the follow-up asks who, and its answer names a person, not a time.
    result = retriever.ask("那谁来审核呢?", [("PO验证要多久", "")])
    assert result.used_history and result.answered
    assert retriever.index.passage(result.ranked_ids[0]).title == "没有匹配到PDM的PO是谁在审核?"
    fee = retriever.ask("那要收费吗?", [("先进云软件方案认证通过后会直接进阶吗", "")])
    assert not fee.answered
