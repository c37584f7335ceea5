"""Text cleaning: site chrome removal and width/whitespace normalisation for matching."""

from __future__ import annotations

import re
import unicodedata

# Lines that are site chrome on Huawei/Tencent help centers, never content.
CHROME_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^检测到您已登录.*$"),
    re.compile(r"^不再显示此消息$"),
    re.compile(r"^(登录|注册|返回顶部|分享|打印|上一篇|下一篇|本文导读|文档反馈|意见反馈)$"),
    re.compile(r"^(Cookie|cookie).*(accept|接受|同意).*$", re.IGNORECASE),
    re.compile(r"^(这篇文档|本页内容|该文档)(是否)?(对您)?有帮助.*$"),
)

_SPACE_RE = re.compile(r"[ \t\u00a0\u3000]+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def is_chrome(line: str) -> bool:
    """True when a whole line is site chrome (login banner, 'don't show again', …)."""
    stripped = line.strip()
    return any(p.match(stripped) for p in CHROME_PATTERNS)


def clean_display(text: str) -> str:
    """Text kept for display: control characters dropped, runs of spaces folded, ends trimmed."""
    text = _CONTROL_RE.sub("", text)
    lines = [_SPACE_RE.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def normalize_for_matching(text: str) -> str:
    """NFKC (full-width → half-width), lower case, whitespace folded: for matching only."""
    text = unicodedata.normalize("NFKC", _CONTROL_RE.sub("", text)).lower()
    return " ".join(text.split())
