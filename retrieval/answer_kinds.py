"""What kind of answer a question asks for, and whether a passage states one: a duration, an amount of money, a number.

"差异化认证需要交费吗" asks how much; the certification passage it finds ("先进云软件方案认证通过后,会直接进阶至差异化
认证阶段吗?") names no fee at all, so it cannot answer it, however close its words are. Such near misses are what the
product answered wrongly with high confidence, so a question that asks for one of these kinds is answered only by a
passage that states one. The passage side is deliberately lenient (any duration, any money word, any number): the check
refuses a passage that states nothing of the kind, it does not judge whether the stated one is right.
A passage that is only a question (its answer repeats its title, as in question-matching corpora) is not held
to it: such a corpus answers by matching questions, not by stating facts.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.passage import Passage

DURATION, AMOUNT, COUNT = "duration", "amount", "count"
KINDS = frozenset((DURATION, AMOUNT, COUNT))

_NUMBER = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万半数]+)"
_ZH_TIME_UNIT = r"(?:个)?\s*(?:工作日|自然日|天|日|小时|分钟|秒|周|星期|礼拜|个月|月|年|号)"
_EN_NUMBER = (r"(?:\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty"
              r"|a few|a couple of|several)")

_ASKS: dict[str, re.Pattern[str]] = {
    DURATION: re.compile(
        r"多久|多长时间|多少天|几天|几个工作日|几个小时|多少小时|几号|哪天|哪一天"
        r"|\bhow (?:long|soon)\b|\bhow many (?:business |working |calendar )?(?:days|hours|minutes|weeks|months)\b",
        re.IGNORECASE),
    AMOUNT: re.compile(
        r"多少钱|收费吗|要收费|收不收费|收费标准|要钱吗|花钱|付钱|掏钱|贵不贵|多贵|交费|缴费吗|付费吗|免费吗|免不免费|手续费|价格"
        r"|费用(?:是)?多少|花多少"
        r"|\bhow much\b[^?？]*\b(?:cost|costs|charge|charged|fee|fees|price|pay|budget)\b"
        r"|\bwhat (?:is|are) the (?:fee|fees|price|prices|cost|costs)\b"
        r"|\bis (?:it|this|there) (?:free|a fee|any fee)\b",
        re.IGNORECASE),
    COUNT: re.compile(
        r"(?<!哪)几个(?!工作日|小时|月|星期|礼拜|自然日)|多少个(?!工作日|小时|月|星期)|最多(?:能|可以|可|支持)"
        r"|多少人|多少次|多少条|多少项|数量(?:上限|限制)|上限是"
        r"|\bhow many\b(?! (?:business |working |calendar )?(?:days|hours|minutes|weeks|months)\b)"
        r"|\bmaximum number\b|\bat most\b",
        re.IGNORECASE),
}
_STATES: dict[str, re.Pattern[str]] = {
    DURATION: re.compile(
        _NUMBER + r"\s*" + _ZH_TIME_UNIT
        + r"|几分钟|几秒|当天|当日|次日|隔天|次月|月初|月底|月末|年底|实时|即时|立即|立刻|马上|T\s*\+\s*\d"
        + r"|每(?:个)?(?:周|日|天|月|年|小时|分钟)|[秒分]级|小时级|有效期|周期|时长|永久|长期|不限|没有限制|无限制"
        + r"|取决于|视[^。；;]{0,20}而定|由[^。；;]{0,20}决定|较难预测|一定时间|时间长短|\d+\s*s\b"
        + r"|\d+\s*(?:h|hrs?|mins?)\b|\b" + _EN_NUMBER
        + r"\s+(?:business |working |calendar )?(?:days?|hours?|minutes?|weeks?|months?|years?)\b"
        + r"|\bimmediately\b|\binstantly\b|\bright away\b|\bovernight\b|\breal[- ]time\b|\bsame day\b|\bnext day\b"
        + r"|\bend of (?:the )?month\b"
        + r"|\b(?:daily|weekly|monthly|yearly|hourly|annually)\b|\bevery (?:day|week|month|year|hour)\b"
        + r"|\bdepends on\b|\bno (?:time )?limit\b|\bunlimited\b|\bpermanent(?:ly)?\b|\bvalidity\b|\bperiod\b",
        re.IGNORECASE),
    AMOUNT: re.compile(
        r"元|免费|收费|费用|价格|手续费|人民币|美元|[$¥￥€]|\b(?:USD|CNY|RMB|EUR)\b"
        r"|\bfees?\b|\bfree\b|\bcharges?\b|\bcosts?\b|\bprices?\b|\bpricing\b|\bpaid\b|\bbilled\b",
        re.IGNORECASE),
    COUNT: re.compile(
        r"\d|[一二两三四五六七八九十百千万]+\s*(?:个|人|次|条|项|名|家|张|位|种)|不限|限制|上限|不超过|配额"
        r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|unlimited)\b|\blimits?\b|\bquotas?\b|\bup to\b",
        re.IGNORECASE),
}


def asked_kinds(question: str) -> frozenset[str]:
    """The kinds of answer the question asks for (empty for most questions: how to, why, where, whether)."""
    return frozenset(kind for kind, pattern in _ASKS.items() if pattern.search(question))


def stated_kinds(text: str) -> frozenset[str]:
    """The kinds of answer the text states somewhere."""
    return frozenset(kind for kind, pattern in _STATES.items() if pattern.search(text))


@lru_cache(maxsize=4096)
def answerable_kinds(passage: Passage) -> frozenset[str]:
    """The kinds of answer the passage can give: those its title and answer state, or every kind when it is only a
    question (its answer empty or its title again). Cached: a long passage that states nothing takes about 1 ms."""
    if passage.is_question_only:
        return KINDS
    return stated_kinds(f"{passage.title}\n{passage.answer}")


def unstated_kinds(question: str, passage: Passage) -> frozenset[str]:
    """The kinds the question asks for that the passage cannot give."""
    asked = asked_kinds(question)
    return asked - answerable_kinds(passage) if asked else asked
