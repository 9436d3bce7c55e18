"""Mail we must never answer: auto-replies, bounces, list mail, our own replies."""

from __future__ import annotations

import re

from ingest.parse import ParsedMail

OWN_HEADER = "X-Mailbox-Intake"
_ROBOTS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+-].*)?@", re.I)


def ignore_reason(mail: ParsedMail) -> str | None:
    """Why this message gets no verdict and no reply, or None when it is a submission."""
    if mail.header(OWN_HEADER) is not None:
        return f"本服务自己发出的邮件（{OWN_HEADER}）"
    auto = mail.header("auto-submitted")
    if auto is not None and auto.split(";")[0].strip().lower() != "no":
        return f"自动发送的邮件（Auto-Submitted: {auto.strip()[:60]}）"
    if mail.content_type == "multipart/report":
        return "退信或回执（multipart/report）"
    precedence = (mail.header("precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"群发邮件（Precedence: {precedence}）"
    list_headers = sorted(h for h in mail.headers if h.startswith("list-"))
    if list_headers:
        return f"邮件列表的邮件（{list_headers[0]}）"
    return_path = mail.header("return-path")
    if return_path is not None and return_path.strip().replace(" ", "") in ("<>", ""):
        return "退信（Return-Path 为空）"
    if mail.header("x-autoreply") is not None or mail.header("x-autorespond") is not None:
        return "自动回复（X-Autoreply）"
    if mail.sender is not None and _ROBOTS.match(mail.sender):
        return f"系统地址发出的邮件（{mail.sender}）"
    return None
