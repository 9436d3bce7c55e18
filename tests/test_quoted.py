"""The sender's own words in a mail that quotes one of our replies, as each client lays the quote out."""

from __future__ import annotations

import pytest

from ingest.mail.quoted import above_quote
from ingest.rules.content import description_text

OURS = (
    "海东市总工会：\n\n您好！贵单位发送的邮件未能登记，原因如下（共 1 项）：\n\n"
    "1. 邮件中没有活动的简要说明（正文少于 10 个字，也没有说明文档）\n"
    "   修改方法：请在邮件正文中写明活动的时间、地点、参加人数和主要内容。\n\n"
    "此邮件由“网聚职工正能量·争做中国好网民”活动收件系统自动发送，请勿直接回复。\n"
)
REPORT = "7月16日，我会组织机关干部职工开展网络安全知识讲座，参加职工60人。"


@pytest.mark.parametrize(
    "quote",
    [
        f'------------------ 原始邮件 ------------------\n发件人: "wxb0626"<wxb0626@126.com>;\n\n{OURS}',
        f'在 2020-08-18 15:12:08，"wxb0626" <wxb0626@126.com> 写道：\n{OURS}',
        f"发件人: wxb0626 <wxb0626@126.com>\n发送时间: 2020年8月18日 15:12\n\n{OURS}",
        f"----------\n\n发件人: wxb0626\n\n{OURS}",
        "> 在 2020年8月18日，15:12，wxb0626 写道：\n" + "".join(f"> {line}\n" for line in OURS.split("\n")),
    ],
    ids=["qq", "coremail", "outlook", "foxmail", "iphone"],
)
def test_our_quoted_reply_is_never_the_senders_description(quote: str) -> None:
    assert description_text(text=f"补发照片，请查收\n\n发自我的iPhone\n\n{quote}", html="") == "补发照片，请查收"


def test_an_html_only_answer_is_cut_at_its_quote() -> None:
    html = (
        "<div>补发照片</div><div><br></div><div>------------------&nbsp;原始邮件&nbsp;------------------</div>"
        + "".join(f"<div>{line}</div>" for line in OURS.split("\n"))
    )
    assert above_quote("", html).strip() == "补发照片"
    assert description_text(text="", html=html) == "补发照片"


def test_a_forwarded_report_without_our_reply_is_read_whole() -> None:
    text = f"转发，请查收。\n\n发件人: 李明 <liming@163.com>\n主题: 海东市总工会线下活动汇总\n\n{REPORT}\n"
    assert REPORT in description_text(text=text, html="")
    # QQ Mail forwards under its ruler: the forwarded report is the description too
    qq = (
        "请查收\n\n\n------------------&nbsp;原始邮件&nbsp;------------------\n".replace("&nbsp;", "\xa0")
        + f'发件人: "李明"<liming@qq.com>;\n发送时间: 2020年8月10日(星期一) 上午9:12\n\n{REPORT}\n'
    )
    said = description_text(text=qq, html="")
    assert REPORT in said and "原始邮件" not in said
