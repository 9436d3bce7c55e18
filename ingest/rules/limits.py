"""The readability rule: a message too large to fetch, or refused by the parse limits, is rejected with why."""

from __future__ import annotations

from ingest.rules import NOTHING, Finding, Problem
from ingest.rules.case import Case

MB = 1024 * 1024


def unreadable(case: Case) -> Finding:
    """The rule: say what made the message unreadable and how to send it so that it can be read."""
    problems: list[Problem] = []
    if case.parse_error is not None:
        problems.append(Problem(code="parse-limit", text=f"邮件无法处理：{case.parse_error}", fix=case.parse_error.fix))
    if case.oversize:
        problems.append(
            Problem(
                code="too-large",
                text=(
                    f"邮件大小 {case.raw_size / MB:.1f} MB，"
                    f"超过本邮箱的上限 {case.max_message_bytes / MB:.0f} MB，未能接收"
                ),
                fix="请压缩文件，或改用 QQ 邮箱/网易邮箱的“超大附件”发送下载链接。",
            )
        )
    return Finding(problems=tuple(problems)) if problems else NOTHING
