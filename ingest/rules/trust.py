"""Whether a sender may speak for a unit: allowed senders per unit and DMARC from Authentication-Results.

Decisions use the parsed From address only; a display name such as `西宁市总工会 <x@elsewhere>`
never makes a unit (the unit comes from the subject) and never matches an allowed sender.

`Authentication-Results` (RFC 8601) is read only from headers whose authserv-id is the one
configured for the mailbox: anyone can write such a header, and only the receiving provider's
own is worth anything (RFC 8601 §5 has it remove forged copies of its own). Of those headers, a
DMARC `fail` wins over any `pass`, and a `pass` counts only for the domain of the parsed From
address. A sender that fails DMARC is never allowlisted and is not answered automatically: the
message is recorded as rejected with a reason for the hosts, who see it in the digest and the CLI.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ingest.mail.parse import ParsedMail
from ingest.rules import Finding, Problem
from ingest.rules.case import Case

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(.+)$")
MAX_HEADER_CHARS = 8_000  # of one Authentication-Results value
# Free mail providers: anyone can have an address there, so a domain entry would allow everyone.
PUBLIC_DOMAINS = frozenset(
    {
        "126.com",
        "163.com",
        "yeah.net",
        "188.com",
        "qq.com",
        "foxmail.com",
        "vip.qq.com",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "189.cn",
        "wo.cn",
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
    }
)


class UnitSenders(Protocol):
    """What trust needs of a roster unit (intake.config.Unit has it)."""

    @property
    def name(self) -> str: ...

    @property
    def allowed_senders(self) -> tuple[str, ...]: ...


def allowed_sender_problem(entry: str) -> str | None:
    """Why an `allowed_senders` entry is unusable (for the configuration check), or None."""
    text = entry.strip()
    domain = text[1:] if text.startswith("@") else text
    match = _ADDRESS.match(text)
    if match is not None:
        domain = match.group(1)
    if not _DOMAIN.match(domain):
        return f"expected an address like name@example.org or a domain like example.org, got {entry!r}"
    if match is None and domain.lower() in PUBLIC_DOMAINS:
        return f"{entry!r} is a public mail provider where anyone can have an address: list the unit's addresses"
    return None


def sender_allowed(sender: str | None, allowed: Sequence[str]) -> bool:
    """Whether a parsed address matches an entry: the same address, or exactly the entry's domain."""
    if sender is None:
        return False
    address = sender.lower()
    domain = address.rpartition("@")[2]
    for entry in allowed:
        item = entry.strip().lower()
        if "@" in item.lstrip("@"):
            if item == address:
                return True
        elif item.lstrip("@") == domain:
            return True
    return False


def on_roster(sender: str | None, units: Sequence[UnitSenders]) -> bool:
    """Whether the parsed address is one of any unit's allowed senders (a known address)."""
    return any(sender_allowed(sender, u.allowed_senders) for u in units if u.allowed_senders)


# -- RFC 8601 --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AuthResult:
    """One resinfo of an Authentication-Results header: `dmarc=fail header.from=example.org`."""

    method: str  # lower case, without a version
    result: str  # lower case
    reason: str | None = None
    properties: dict[str, str] = field(default_factory=dict)  # "header.from" -> "example.org"


@dataclass(frozen=True, kw_only=True)
class AuthResults:
    """One Authentication-Results header."""

    authserv_id: str
    results: tuple[AuthResult, ...]


def _tokens(value: str) -> Iterator[str]:
    """Words, quoted strings (unquoted), ";" and "=", with comments (nested, escapes) dropped."""
    i = 0
    n = len(value)
    while i < n:
        ch = value[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            depth = 0
            while i < n:
                if value[i] == "\\":
                    i += 2
                    continue
                if value[i] == "(":
                    depth += 1
                elif value[i] == ")":
                    depth -= 1
                    if depth == 0:
                        i += 1
                        break
                i += 1
        elif ch == '"':
            i += 1
            out: list[str] = []
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(value[i])
                i += 1
            i += 1
            yield '"' + "".join(out)  # marked as quoted: never taken for ";" or "="
        elif ch in ";=":
            i += 1
            yield ch
        else:
            start = i
            while i < n and not value[i].isspace() and value[i] not in ';=("':
                i += 1
            yield value[start:i]


def _word(token: str) -> str:
    return token[1:] if token.startswith('"') else token


def parse_authentication_results(value: str) -> AuthResults | None:
    """One header value per RFC 8601 §2.2; None when it has no authserv-id. Malformed resinfo is skipped."""
    groups: list[list[str]] = [[]]
    for token in _tokens(value[:MAX_HEADER_CHARS]):
        if token == ";":
            groups.append([])
        else:
            groups[-1].append(token)
    head = groups[0]
    if not head or head[0] == "=":
        return None
    authserv_id = _word(head[0]).lower()
    results: list[AuthResult] = []
    for group in groups[1:]:
        if len(group) < 3 or group[0] == "=" or group[1] != "=" or group[2] == "=":
            continue  # "none" (no-result) or something malformed
        method = _word(group[0]).split("/", 1)[0].strip().lower()
        result = _word(group[2]).lower()
        reason: str | None = None
        props: dict[str, str] = {}
        rest = group[3:]
        i = 0
        while i + 2 < len(rest) and rest[i + 1] == "=":
            key = _word(rest[i]).lower()
            val = _word(rest[i + 2])
            if key == "reason":
                reason = val
            elif "." in key:
                props.setdefault(key, val)
            i += 3
        results.append(AuthResult(method=method, result=result, reason=reason, properties=props))
    return AuthResults(authserv_id=authserv_id, results=tuple(results))


# -- the verdict -----------------------------------------------------------------------------------


class Dmarc(enum.StrEnum):
    """What the trusted Authentication-Results say about the From domain."""

    PASS = "pass"
    FAIL = "fail"
    NONE = "none"  # a trusted header without a usable DMARC result (none, temperror, ...)
    UNKNOWN = "unknown"  # no authserv-id configured, or no header from it


@dataclass(frozen=True, kw_only=True)
class DmarcVerdict:
    result: Dmarc
    detail: str  # what was read, in plain words, for the reasons


def dmarc_verdict(mail: ParsedMail, *, authserv_id: str | None) -> DmarcVerdict:
    """DMARC for the parsed From address, from the headers of the configured authserv-id only."""
    if not authserv_id:
        return DmarcVerdict(result=Dmarc.UNKNOWN, detail="未配置 authserv_id")
    wanted = authserv_id.strip().lower()
    found: list[AuthResult] = []
    trusted_headers = 0
    for value in mail.headers.get("authentication-results", []):
        parsed = parse_authentication_results(value)
        if parsed is None or parsed.authserv_id != wanted:
            continue
        trusted_headers += 1
        found.extend(r for r in parsed.results if r.method == "dmarc")
    if trusted_headers == 0:
        return DmarcVerdict(result=Dmarc.UNKNOWN, detail=f"没有 {wanted} 写的 Authentication-Results")
    domain = mail.sender.rpartition("@")[2] if mail.sender else None
    fails = [r for r in found if r.result == "fail"]
    if fails:
        where = fails[0].properties.get("header.from")
        suffix = f"（header.from={where}）" if where else ""
        return DmarcVerdict(result=Dmarc.FAIL, detail=f"{wanted} 报告 dmarc=fail{suffix}")
    for r in found:
        if r.result != "pass":
            continue
        header_from = r.properties.get("header.from", "").strip().lower()
        if domain is not None and header_from and header_from != domain:
            return DmarcVerdict(
                result=Dmarc.FAIL,
                detail=f"{wanted} 报告的 dmarc=pass 针对的是 {header_from}，与发件地址的域 {domain} 不一致",
            )
        if domain is not None:
            return DmarcVerdict(result=Dmarc.PASS, detail=f"{wanted} 报告 dmarc=pass")
    shown = found[0].result if found else "没有 DMARC 结果"
    return DmarcVerdict(result=Dmarc.NONE, detail=f"{wanted}：{shown}")


@dataclass(frozen=True, kw_only=True)
class TrustVerdict:
    """What trust adds to a verdict: problems (reasons) and, when no reply may go out, why."""

    dmarc: DmarcVerdict
    allowlisted: bool | None  # None: the unit keeps no list (or no unit was recognised)
    problems: tuple[Problem, ...] = ()
    hold: str | None = None  # why no automatic reply may go out (shown to the hosts), or None


def judge_sender(
    mail: ParsedMail, *, unit: str | None, units: Sequence[UnitSenders], authserv_id: str | None
) -> TrustVerdict:
    """Check the parsed sender against the unit's allowed senders and the provider's DMARC result."""
    dmarc = dmarc_verdict(mail, authserv_id=authserv_id)
    allowed = next((u.allowed_senders for u in units if u.name == unit), ()) if unit else ()
    shown = mail.sender or "（无法识别的发件地址）"
    if dmarc.result is Dmarc.FAIL:
        hold = f"发件人未通过 DMARC 验证（{dmarc.detail}），不自动回复，请工作人员核实"
        problem = Problem(
            code="dmarc-fail",
            text=f"发件地址 {shown} 未通过 DMARC 验证（{dmarc.detail}），可能是冒用该地址的邮件，未予登记",
            fix="工作人员会与单位核实；如确为本单位所发，请直接用单位登记的邮箱重新发送，不要经转发或代发服务。",
        )
        return TrustVerdict(dmarc=dmarc, allowlisted=False if allowed else None, problems=(problem,), hold=hold)
    if not allowed:
        return TrustVerdict(dmarc=dmarc, allowlisted=None)
    if sender_allowed(mail.sender, allowed):
        return TrustVerdict(dmarc=dmarc, allowlisted=True)
    problem = Problem(
        code="sender-not-allowed",
        text=f"发件地址 {shown} 不是“{unit}”登记的报送邮箱",
        fix="请用本单位登记的报送邮箱重新发送；如需改用新的邮箱，请先联系工作人员登记。",
    )
    return TrustVerdict(dmarc=dmarc, allowlisted=False, problems=(problem,))


def sender_trust(case: Case) -> Finding:
    """The rule: the sender passes DMARC and is one the unit allows (if it keeps a list)."""
    verdict = judge_sender(case.mail, unit=case.subject.unit, units=case.units, authserv_id=case.authserv_id)
    return Finding(problems=verdict.problems, hold=verdict.hold)
