"""Mail we must never answer: auto-replies, bounces, receipts, list mail, our own replies."""

from __future__ import annotations

import re
import unicodedata

from campaign.notice import OWN_HEADER
from ingest.mail.parse import ParsedMail

_ROBOTS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+-].*)?@", re.I)
# Reports that arrive without a multipart/report wrapper (some MTAs send the bare status part).
_REPORT_TYPES = (
    "multipart/report",
    "message/delivery-status",
    "message/global-delivery-status",
    "message/disposition-notification",
    "message/global-disposition-notification",
    "message/feedback-report",
    "text/rfc822-headers",
)
_PRECEDENCE = ("bulk", "list", "junk", "auto_reply")
# Subjects that auto-responders write and people never start a submission with.
_AUTO_SUBJECT = re.compile(
    r"^\s*(自动回复|自动答复|自動回覆|auto(matic)?[ -]?reply|autoreply|auto-response|out of (the )?office)\b", re.I
)


def ignore_reason(mail: ParsedMail) -> str | None:
    """Why this message gets no verdict and no reply, or None when it is a submission."""
    if mail.header(OWN_HEADER) is not None:
        return f"本服务自己发出的邮件（{OWN_HEADER}）"
    auto = mail.header("auto-submitted")
    if auto is not None and auto.split(";")[0].strip().lower() != "no":
        return f"自动发送的邮件（Auto-Submitted: {auto.strip()[:60]}）"
    if mail.content_type in _REPORT_TYPES:
        return f"退信或回执（{mail.content_type}）"
    precedence = (mail.header("precedence") or "").strip().lower()
    if precedence in _PRECEDENCE:
        return f"群发或自动发送的邮件（Precedence: {precedence}）"
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
    if _AUTO_SUBJECT.match(unicodedata.normalize("NFKC", mail.subject)):
        return "自动回复（标题表明是自动回复）"
    return None
