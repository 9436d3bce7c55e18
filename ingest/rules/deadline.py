"""The deadline rule: mail that arrived after its mailbox's deadline is marked late, and rejected if configured."""

from __future__ import annotations

import datetime as dt

from campaign.notice import date_text
from ingest.rules import NOTHING, Finding, Problem
from ingest.rules.case import Case


def late_problem(deadline: dt.date, received: dt.date) -> Problem:
    """A submission after the deadline, where the config says late ones are rejected."""
    return Problem(
        code="late",
        text=f"邮件于{date_text(received)}收到，报送截止日期为{date_text(deadline)}，已逾期",
        fix="报送已截止；如有特殊情况，请直接联系承办单位的联系人。",
        resend=False,
    )


def deadline(case: Case) -> Finding:
    """The rule: judged by the day the message arrived (Beijing time), not by when it is processed."""
    if case.deadline is None or not case.late:
        return NOTHING
    if case.rules.late == "reject":
        return Finding(problems=(late_problem(case.deadline, case.arrived_day),))
    return Finding(notes=(f"本邮件在截止日期{date_text(case.deadline)}之后收到，已登记为逾期报送。",))
