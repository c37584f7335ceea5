"""The HTML parser on realistic help-center pages: chrome, breadcrumbs, 父主题, broken markup."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from ingest.errors import ParseError
from ingest.html import defuse_markup, parse_html
from ingest.passage import Passage
from ingest.registry import parse_paths
from ingest.sections import MAX_PASSAGE_CHARS

HELP_CENTER_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>如何修改云经销商的邮箱、手机等信息？_伙伴中心_华为云</title>
<link rel="canonical" href="https://support.huaweicloud.com/bpconsole_faq/faq_0001.html">
<meta property="og:url" content="https://example.com/not-this-one">
<script>var banner = "检测到您已登录"; document.write("脚本文字");</script>
<style>.doc{color:red}</style>
<noscript>请启用 JavaScript</noscript>
</head>
<body>
<div id="cookie-consent" class="cookie-bar">本网站使用 Cookie 以提升体验 <button>接受</button></div>
<header class="site-header"><h1 class="logo">华为云</h1>
  <nav><a href="https://www.huaweicloud.com/">首页</a> <a href="/product">产品</a></nav></header>
<div class="login-tip">检测到您已登录华为云国际站账号,为了您更好的体验,建议您访问国际站服务网站
 https://www.huaweicloud.com/intl/zh-cn</div>
<ol class="breadcrumb"><li><a href="/">文档首页</a></li><li><a href="/bp">伙伴中心</a></li>
  <li><a href="/bp/faq">常见问题</a></li><li>如何修改云经销商的邮箱</li></ol>
<aside class="toc"><a href="#a">目录项</a></aside>
<div id="main" role="main"><article>
<h1>如何修改云经销商的邮箱、手机等信息？</h1>
<p>单击<a href="https://partner.huaweicloud.com/bp">这里</a>进入伙伴中心，在右上角用户名下拉菜单中选择
   “伙伴信息 &gt; 基本信息”，选择“个人资料”页签。
<p>修改注册邮箱：单击“注册邮箱”后的<a href="javascript:void(0)">修改</a>，验证身份。
   <a href="data:text/html,evil">附件</a> <a href="/bp/help/email.html">帮助</a> <a href="#top">顶部</a>
<ul><li>修改手机号码<li>单击“手机号码”后的“修改”
</ul>
<p>不再显示此消息</p>
<form><input name="q"><label>这篇文档对您有帮助吗？</label></form>
<div class="familylinks"><div class="parentlink"><strong>父主题：</strong>
  <a href="faq_list.html">云经销商伙伴</a></div></div>
</article></div>
<footer>© 2024 华为云 <a href="https://www.huaweicloud.com/about">关于</a></footer>
<div class="unclosed"><p>页脚外的残余
"""


def parse_one(tmp_path: Path, html: str, name: str = "page.html") -> list[Passage]:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return parse_html(path, html, None)


def test_help_center_page(tmp_path: Path) -> None:
    [passage] = parse_one(tmp_path, HELP_CENTER_PAGE)
    assert passage.title == "如何修改云经销商的邮箱、手机等信息？"
    assert passage.kind == "faq"
    assert passage.topic == "云经销商伙伴"
    assert passage.source == "https://support.huaweicloud.com/bpconsole_faq/faq_0001.html"
    assert passage.lang == "zh"
    assert passage.answer.startswith("单击这里进入伙伴中心")
    assert "“伙伴信息 > 基本信息”" in passage.answer
    assert "修改手机号码\n单击“手机号码”后的“修改”" in passage.answer
    assert passage.links == (
        "https://partner.huaweicloud.com/bp",
        "https://support.huaweicloud.com/bp/help/email.html",
    )


@pytest.mark.parametrize(
    "chrome",
    ["检测到您已登录", "不再显示此消息", "脚本文字", "color:red", "JavaScript", "Cookie", "接受", "首页",
     "产品", "文档首页", "目录项", "对您有帮助", "父主题", "云经销商伙伴", "2024", "关于", "华为云 "],
)
def test_chrome_is_dropped(tmp_path: Path, chrome: str) -> None:
    [passage] = parse_one(tmp_path, HELP_CENTER_PAGE)
    assert chrome not in passage.answer


def test_never_javascript_or_data_links(tmp_path: Path) -> None:
    [passage] = parse_one(tmp_path, HELP_CENTER_PAGE)
    assert all(link.startswith(("http://", "https://")) for link in passage.links)


def test_breadcrumb_gives_the_topic(tmp_path: Path) -> None:
    page = HELP_CENTER_PAGE.replace("父主题：", "").replace('class="familylinks"', "").replace(
        'class="parentlink"', ""
    ).replace("云经销商伙伴", "")
    [passage] = parse_one(tmp_path, page)
    assert passage.topic == "常见问题"
    assert "常见问题" not in passage.answer


def test_breadcrumb_whose_last_link_is_the_page(tmp_path: Path) -> None:
    page = """<html><body><nav aria-label="面包屑"><a href="/">首页</a> &gt; <a href="/bill">账单管理</a>
    &gt; <a href="/bill/dl">下载账单</a></nav><main><h1>下载账单</h1>
    <p>子客可在账单界面列表右上方点击下载按钮对月账单进行全量下载。</p></main></body></html>"""
    [passage] = parse_one(tmp_path, page)
    assert passage.topic == "账单管理"
    assert passage.kind == "guide"


def test_plain_parent_topic_text(tmp_path: Path) -> None:
    page = """<html><body><div class="content"><h1>机会点/PO验证时效?</h1>
    <p>机会点验证SLA为10个工作日，过期默认驳回。</p><p>父主题: 共享给华为(PO)</p></div></body></html>"""
    [passage] = parse_one(tmp_path, page)
    assert passage.topic == "共享给华为(PO)"
    assert passage.answer == "机会点验证SLA为10个工作日，过期默认驳回。"
    assert passage.kind == "faq"


def test_title_from_head_without_site_suffix(tmp_path: Path) -> None:
    for title in ("管理客户 - 华为云", "管理客户_伙伴销售平台_华为云", "管理客户 | Huawei Cloud"):
        page = f"<html><head><title>{title}</title></head><body><p>合作伙伴可以查看已关联的客户。</p></body></html>"
        [passage] = parse_one(tmp_path, page)
        assert passage.title == "管理客户"
        assert passage.kind == "guide"
        assert passage.source == str(tmp_path / "page.html")


def test_og_url_is_the_source_without_canonical(tmp_path: Path) -> None:
    page = HELP_CENTER_PAGE.replace('rel="canonical"', 'rel="alternate"')
    [passage] = parse_one(tmp_path, page)
    assert passage.source == "https://example.com/not-this-one"


def test_title_falls_back_to_the_file_name(tmp_path: Path) -> None:
    [passage] = parse_one(tmp_path, "<p>Reset your password from the console.</p>", name="reset-password.html")
    assert passage.title == "reset-password"
    assert passage.lang == "en"


@pytest.mark.parametrize(
    ("title", "kind"),
    [("How do I reset my password", "faq"), ("Why is my bill higher", "faq"), ("Can I pay later", "faq"),
     ("What is a voucher", "faq"), ("为什么账单有误差", "faq"), ("是否支持退款", "faq"),
     ("怎么开发票", "faq"), ("账单管理？", "faq"), ("Showcase of features", "guide"),
     ("However it works", "guide"), ("账单管理", "guide")],
)
def test_kind_from_title(tmp_path: Path, title: str, kind: str) -> None:
    [passage] = parse_one(tmp_path, f"<h1>{title}</h1><p>Some answer text for the page.</p>")
    assert passage.kind == kind


def long_page() -> str:
    intro = "<p>本文介绍经销商如何管理子客的账户与额度，适用于所有一级经销商。</p>"
    credit = "<h2>分配信用额度</h2>" + "<p>" + "经销商可以为子客分配信用额度，额度用于子客购买产品。" * 30 + "</p>"
    short = "<h3>注意</h3><p>额度立即生效。</p>"
    voucher = (
        "<h2>分配代金券</h2><p>"
        + "代金券可以抵扣子客的订单金额，经销商在控制台选择代金券并指定子客即可完成分配。" * 20
        + '<a href="https://www.tencentcloud.com/document/product/1085/50550">代金券说明</a></p>'
    )
    return f"<html><body><article><h1>子客管理</h1>{intro}{credit}{short}{voucher}</article></body></html>"


def test_long_page_splits_at_headings(tmp_path: Path) -> None:
    passages = parse_one(tmp_path, long_page())
    assert [p.title for p in passages] == ["子客管理 - 分配信用额度", "子客管理 - 分配代金券"]
    credit, voucher = passages
    assert credit.answer.startswith("本文介绍经销商")  # the short intro is carried into the first section
    assert credit.answer.endswith("注意\n额度立即生效。")  # the short section merges into the previous
    assert voucher.links == ("https://www.tencentcloud.com/document/product/1085/50550",)
    assert credit.links == ()
    assert all(p.kind == "guide" for p in passages)


def test_short_page_stays_whole(tmp_path: Path) -> None:
    page = "<h1>子客管理</h1><h2>分配信用额度</h2><p>经销商可以分配额度。</p><h2>分配代金券</h2><p>代金券可抵扣。</p>"
    [passage] = parse_one(tmp_path, page)
    assert passage.answer == "分配信用额度\n经销商可以分配额度。\n分配代金券\n代金券可抵扣。"


def test_very_long_section_is_cut_into_parts(tmp_path: Path) -> None:
    body = "".join(f"<p>第{i}条：经销商应当遵守合作伙伴条款中的各项约定，按时结算并开具发票。</p>" for i in range(400))
    passages = parse_one(tmp_path, f"<h1>合作伙伴条款</h1>{body}")
    assert len(passages) > 1
    assert all(len(p.answer) <= MAX_PASSAGE_CHARS for p in passages)
    assert passages[0].title == f"合作伙伴条款 (1/{len(passages)})"
    assert "第399条" in passages[-1].answer


def test_table_rows_read_as_lines(tmp_path: Path) -> None:
    page = """<h1>预设策略</h1><table><tr><th>策略名称</th><th>策略描述</th></tr>
    <tr><td>QcloudIntlpartnersmgtFullAccess</td><td>全读写访问权限</td></tr></table>"""
    [passage] = parse_one(tmp_path, page)
    assert passage.answer == "策略名称 | 策略描述\nQcloudIntlpartnersmgtFullAccess | 全读写访问权限"


def test_broken_unclosed_html_still_parses(tmp_path: Path) -> None:
    page = """<html><head><title>退订规则</title><body><div class="doc"><h1>退订规则<p>包年包月资源支持五天无理由退订
    <div><span>退订后<b>资源立即释放<i>，数据不可恢复</div><table><tr><td>单元格<td>另一个
    <p>未闭合的段落 <a href="https://example.com/refund">退订说明</a <!-- 未闭合注释"""
    passages = parse_one(tmp_path, page)
    text = "\n".join(p.answer for p in passages)
    assert "包年包月资源支持五天无理由退订" in text
    assert "资源立即释放" in text and "未闭合的段落" in text


def test_page_without_text_is_an_error(tmp_path: Path) -> None:
    page = "<html><head><title></title><script>x()</script></head><body><nav>首页</nav><footer>©</footer></body></html>"
    with pytest.raises(ParseError, match="no text content"):
        parse_one(tmp_path, page)


def test_page_with_only_a_heading_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="only headings"):
        parse_one(tmp_path, "<h1>标题</h1><h2>小节</h2>")


def test_registry_routes_html_and_htm(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(HELP_CENTER_PAGE, encoding="utf-8")
    (tmp_path / "b.htm").write_text(long_page(), encoding="utf-8")
    (tmp_path / "c.page").write_text("<!DOCTYPE html><html><body><p>按内容识别的页面。</p></body></html>")
    result = parse_paths([tmp_path])
    assert result.skipped == []
    assert len(result.passages) == 4
    assert {p.topic for p in result.passages} >= {"云经销商伙伴"}


def test_a_form_around_the_whole_page_is_kept(tmp_path: Path) -> None:
    page = """<html><body><form id="form1" action="/page.aspx"><nav>首页</nav>
    <div role="main"><h1>账单下载</h1><p>子客可在账单界面下载月账单。</p></div>
    <form class="search"><input name="q"><span>搜索文档</span></form></form></body></html>"""
    [passage] = parse_one(tmp_path, page)
    assert passage.title == "账单下载"
    assert passage.answer == "子客可在账单界面下载月账单。"


@pytest.mark.parametrize(
    "page",
    [
        "<div><a href='https://x.example/a'>文字" * 15_000,  # deeply nested, unclosed
        "</文字" * 15_000,  # end tags that never end
        "<!--文字" * 15_000,  # comments that never close
        "<article>" * 15_000 + "x",
        "<div>" * 15_000 + "父主题 x",
        "<p>&a文字" * 15_000,  # bare ampersands
    ],
    ids=["nested", "end-tags", "comments", "articles", "parent-mark", "ampersands"],
)
def test_hostile_markup_stays_linear(tmp_path: Path, page: str) -> None:
    started = time.process_time()
    with contextlib.suppress(ParseError):
        parse_one(tmp_path, page)
    assert time.process_time() - started < 10


def test_too_much_markup_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"too much markup for one page \(60000 tags"):
        parse_one(tmp_path, "<b>" * 60_000)


def test_defuse_markup_keeps_well_formed_html() -> None:
    html = '<p class="a">x &amp; y &#39; &#x1F600;</p><!-- c <b> --><br/>'
    assert defuse_markup(html) == html
    assert defuse_markup("a < b <p>c</p> &x <!-- open") == "a &lt; b <p>c</p> &amp;x &lt;!-- open"
    assert defuse_markup("<![CDATA[x]]><a") == "&lt;![CDATA[x]]>&lt;a"
