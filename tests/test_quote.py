"""Short quotations for strangers: what a rejection to a first contact may quote of its subject."""

from __future__ import annotations

import datetime as dt

from campaign.notice import MailboxKind
from campaign.settings import ReplySettings
from ingest.answer import reply_context
from ingest.chain import Decision
from ingest.rules import Problem
from notify.contexts import Rejection
from notify.quote import SHORT_QUOTE_CHARS, short_quote
from store.enums import MessageStatus
from store.models import Message

ATTACK = "\x1b[1;31m\x1b]8;;http://evil.example\x07紧急\u202e通知\u200b：\x9b0m" + "点击领取补贴" * 20


def test_a_short_quote_has_no_control_bidi_or_terminal_code_and_is_cut() -> None:
    quoted = short_quote(ATTACK)
    assert quoted.startswith("紧急 通知 ：点击领取补贴") and quoted.endswith("…")
    assert len(quoted) == SHORT_QUOTE_CHARS
    assert not any(ch in quoted for ch in "\x1b\x07\x9b\u202e\u200b[]")
    assert short_quote("西宁市总工会线下活动汇总") == "西宁市总工会线下活动汇总"  # short text stays as it is


def _rejection(*, first_contact: bool) -> Rejection:
    msg = Message(mailbox="reports", uidvalidity=0, uid=1, raw_size=1, sender="s@forged.example", subject=ATTACK)
    msg.arrived_at = dt.datetime(2020, 8, 18, 2, 5)
    problem = Problem(
        code="subject-format", text=f"邮件标题“{ATTACK.strip()}”不符合格式“单位+线下活动汇总”", fix="请修改"
    )
    context = reply_context(
        msg=msg,
        kind=MailboxKind.OFFLINE_ACTIVITY,
        decision=Decision(status=MessageStatus.REJECTED, problems=(problem,)),
        files=(),
        links=(),
        replies=ReplySettings(),
        first_contact=first_contact,
    )
    assert isinstance(context, Rejection)
    return context


def test_a_rejection_to_a_first_contact_quotes_its_subject_short_everywhere() -> None:
    context = _rejection(first_contact=True)
    assert context.subject == short_quote(ATTACK) and context.subject_line == short_quote(ATTACK)
    (problem,) = context.problems
    assert problem.text == f"邮件标题“{short_quote(ATTACK)}”不符合格式“单位+线下活动汇总”"
    assert "点击领取补贴" * 5 not in context.subject + problem.text


def test_a_known_sender_still_sees_its_subject_cleaned_but_longer() -> None:
    context = _rejection(first_contact=False)
    assert context.subject.startswith("紧急 通知 ：" + "点击领取补贴" * 10) and "\x1b" not in context.subject
    assert context.subject.endswith("点击领取补贴" * 3) and len(context.subject) == 7 + 6 * 20  # whole, under 150
