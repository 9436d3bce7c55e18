"""Read the TOML configuration once, check it, and turn it into typed settings.

This is the only module that reads the configuration file. Every error names the key
and what is wrong with it; secrets are read from the environment variable (or file) that
the configuration names, never from the TOML itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from campaign.notice import MailboxKind
from campaign.settings import (
    AFTER_ACTIONS,
    IDLE_RENEW_MAX_SECONDS,
    IDLE_RENEW_SECONDS,
    LATE_ACTIONS,
    LIMIT_NAMES,
    ConfigError,
    DigestSettings,
    KindRules,
    MailboxSettings,
    ReplySettings,
    SafetySettings,
    ServiceSettings,
    Settings,
    Severities,
    Severity,
    SmtpSettings,
    StatusSettings,
    StoreSettings,
    Unit,
    WebSettings,
    default_rules,
    parse_ratio,
)
from ingest.rules.trust import allowed_sender_problem
from intake.cleartext import check_cleartext
from intake.tables import EMAIL, REQUIRED, Table, address, date_value, secret, security


def parse(data: Mapping[str, Any], *, path: Path) -> Settings:
    """Build Settings from parsed TOML; relative paths are taken from the file's folder."""
    base = path.parent
    root = Table(data, "")
    root.unknown(
        {"store", "smtp", "mailboxes", "digest", "units", "replies", "rules", "safety", "service", "status", "web"}
    )

    st = root.table("store")
    st.unknown({"url", "blob_dir"})
    url = st.text("url", REQUIRED)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        url = "sqlite:///" + str((base / url.removeprefix("sqlite:///")).resolve())
    store = StoreSettings(url=url, blob_dir=(base / st.text("blob_dir", REQUIRED)).resolve())

    sm = root.table("smtp")
    sm.unknown(
        {
            "host",
            "port",
            "security",
            "username",
            "password_env",
            "password_file",
            "sender",
            "max_attempts",
            "retry_seconds",
            "timeout_seconds",
            "cafile",
            "allow_cleartext",
        }
    )
    check_cleartext(sm, host=sm.text("host", REQUIRED), security=security(sm, "ssl"))
    smtp = SmtpSettings(
        host=sm.text("host", REQUIRED),
        port=sm.integer("port", REQUIRED, minimum=1),
        security=security(sm, "ssl"),
        username=sm.text("username", "") if "username" in sm.data else "",
        password=secret(sm, base),
        sender=address(sm, "sender"),
        max_attempts=sm.integer("max_attempts", 8, minimum=1),
        retry_seconds=sm.integer("retry_seconds", 60, minimum=1),
        timeout_seconds=float(sm.integer("timeout_seconds", 30, minimum=1)),
        cafile=(base / cafile_name) if (cafile_name := sm.text("cafile", None)) else None,
    )

    allowed_kinds = {k.value for k in MailboxKind}
    mailboxes: list[MailboxSettings] = []
    for mb in root.tables("mailboxes"):
        mb.unknown(
            {
                "name",
                "kind",
                "address",
                "host",
                "port",
                "security",
                "username",
                "password_env",
                "password_file",
                "folder",
                "poll_seconds",
                "max_message_bytes",
                "fetch_batch",
                "cafile",
                "deadline",
                "authserv_id",
                "after",
                "move_to",
                "idle",
                "idle_renew_seconds",
                "allow_cleartext",
            }
        )
        check_cleartext(mb, host=mb.text("host", REQUIRED), security=security(mb, "ssl"))
        kind = mb.text("kind", REQUIRED)
        if kind not in allowed_kinds:
            raise ConfigError(f"{mb.key('kind')}: must be one of {', '.join(sorted(allowed_kinds))}, got {kind!r}")
        name = mb.text("name", REQUIRED)
        if any(m.name == name for m in mailboxes):
            raise ConfigError(f"{mb.key('name')}: the name {name!r} is used twice")
        cafile = mb.text("cafile", None)
        after = mb.text("after", "keep")
        if after not in AFTER_ACTIONS:
            raise ConfigError(f"{mb.key('after')}: must be one of {', '.join(AFTER_ACTIONS)}, got {after!r}")
        move_to = mb.text("move_to", None)
        if after == "move" and move_to is None:
            raise ConfigError(f'{mb.key("move_to")}: missing (after = "move" needs the folder to move to)')
        if after != "move" and move_to is not None:
            raise ConfigError(f'{mb.key("move_to")}: only used with after = "move", got after = {after!r}')
        if move_to is not None and move_to == mb.data.get("folder", "INBOX"):
            raise ConfigError(f"{mb.key('move_to')}: must differ from the folder that is read ({move_to!r})")
        renew = mb.integer("idle_renew_seconds", IDLE_RENEW_SECONDS, minimum=60)
        if renew > IDLE_RENEW_MAX_SECONDS:
            raise ConfigError(
                f"{mb.key('idle_renew_seconds')}: must be at most {IDLE_RENEW_MAX_SECONDS} "
                f"(RFC 2177: IDLE is issued again within 29 minutes), got {renew}"
            )
        mailboxes.append(
            MailboxSettings(
                name=name,
                kind=MailboxKind(kind),
                address=address(mb, "address", None) or mb.text("username", REQUIRED),
                host=mb.text("host", REQUIRED),
                port=mb.integer("port", REQUIRED, minimum=1),
                security=security(mb, "ssl"),
                username=mb.text("username", REQUIRED),
                password=secret(mb, base),
                folder=mb.text("folder", "INBOX"),
                poll_seconds=mb.integer("poll_seconds", 300, minimum=10),
                max_message_bytes=mb.integer("max_message_bytes", 60 * 1024 * 1024, minimum=1024),
                fetch_batch=mb.integer("fetch_batch", 20, minimum=1),
                cafile=(base / cafile) if cafile else None,
                deadline=date_value(mb, "deadline"),
                authserv_id=mb.text("authserv_id", None),
                after=after,
                move_to=move_to,
                idle=mb._get("idle", bool, "true or false", True),
                idle_renew_seconds=renew,
            )
        )

    dg = root.table("digest")
    dg.unknown({"recipients", "time"})
    recipients = dg.str_list("recipients", REQUIRED)
    for i, r in enumerate(recipients):
        if not EMAIL.match(r):
            raise ConfigError(f"{dg.key('recipients')}[{i}]: not an email address: {r!r}")
    raw_time = dg.data.get("time", "07:30")
    try:
        digest_time = raw_time if isinstance(raw_time, dt.time) else dt.time.fromisoformat(str(raw_time))
    except ValueError as exc:
        raise ConfigError(f'{dg.key("time")}: expected a time like "07:30", got {raw_time!r}') from exc
    digest = DigestSettings(recipients=recipients, time=digest_time)

    units: list[Unit] = []
    seen: dict[str, str] = {}
    for un in root.tables("units"):
        un.unknown({"name", "aliases", "former", "registered", "activity_quota", "allowed_senders"})
        uname = un.text("name", REQUIRED)
        aliases = un.str_list("aliases", ())
        former = un.str_list("former", ())
        registered = un.text("registered", None)
        for label in (uname, *aliases, *former, *([registered] if registered else [])):
            if label in seen:
                raise ConfigError(f"{un.key('name')}: {label!r} already names {seen[label]!r}")
            seen[label] = uname
        allowed = un.str_list("allowed_senders", ())
        for i, entry in enumerate(allowed):
            problem = allowed_sender_problem(entry)
            if problem is not None:
                raise ConfigError(f"{un.key('allowed_senders')}[{i}]: {problem}")
        units.append(
            Unit(
                name=uname,
                aliases=aliases,
                former=former,
                registered=registered,
                activity_quota=un.integer("activity_quota", None),
                allowed_senders=tuple(a.strip() for a in allowed),
            )
        )

    rp = root.table("replies", required=False)
    rp.unknown({"templates_dir", "campaign", "contact"})
    tdir = rp.text("templates_dir", None)
    replies = ReplySettings(
        templates_dir=(base / tdir) if tdir else None,
        campaign=rp.text("campaign", ReplySettings.campaign),
        contact=rp.text("contact", ReplySettings.contact),
    )
    return Settings(
        path=path,
        store=store,
        smtp=smtp,
        mailboxes=tuple(mailboxes),
        digest=digest,
        units=tuple(units),
        replies=replies,
        rules=_rules(root.table("rules", required=False)),
        safety=_safety(root.table("safety", required=False)),
        service=_service(root.table("service", required=False)),
        status=_status(root.table("status", required=False)),
        web=web_settings(root.table("web", required=False), base=base),
    )


def _rules(table: Table) -> dict[MailboxKind, KindRules]:
    """[rules.<kind>] tables: each key overrides that kind's default from the notice; 0 = no limit."""
    table.unknown({k.value for k in MailboxKind})
    rules = default_rules()
    for kind in MailboxKind:
        rt = table.table(kind.value, required=False)
        if not rt.data:
            continue
        rt.unknown({f.name for f in dataclasses.fields(KindRules)})
        base = rules[kind]
        changes: dict[str, Any] = {}
        for name in (
            "min_seconds",
            "max_seconds",
            "min_width",
            "min_height",
            "photo_min_long_side",
            "picture_min_long_side",
        ):
            if name in rt.data:
                changes[name] = rt.integer(name) or None
        if "aspect" in rt.data:
            aspect = rt._get("aspect", str, 'a ratio like "16:9" or ""', None)
            if aspect.strip() and parse_ratio(aspect) is None:
                raise ConfigError(f'{rt.key("aspect")}: expected a ratio like "16:9", got {aspect!r}')
            changes["aspect"] = aspect.strip() or None
        if "aspect_tolerance" in rt.data:
            tolerance = float(rt._get("aspect_tolerance", (int, float), "a number like 0.03", None))
            if not 0 <= tolerance < 1:
                raise ConfigError(f"{rt.key('aspect_tolerance')}: must be between 0 and 1, got {tolerance}")
            changes["aspect_tolerance"] = tolerance
        for name in ("require_mp4", "require_audio"):
            if name in rt.data:
                changes[name] = rt._get(name, bool, "true or false", None)
        if "duration_tolerance_seconds" in rt.data:
            changes["duration_tolerance_seconds"] = rt.integer("duration_tolerance_seconds")
        if "silence_db" in rt.data:
            silence = float(rt._get("silence_db", (int, float), "a number of dB like -60 (0: never noted)", None))
            if silence > 0:
                raise ConfigError(f"{rt.key('silence_db')}: must be 0 or below (dB below full scale), got {silence:g}")
            changes["silence_db"] = silence or None
        for name in ("campaign_start", "campaign_end"):
            if name in rt.data:
                changes[name] = date_value(rt, name)
        if "late" in rt.data:
            late = rt.text("late")
            if late not in LATE_ACTIONS:
                raise ConfigError(f"{rt.key('late')}: must be one of {', '.join(LATE_ACTIONS)}, got {late!r}")
            changes["late"] = late
        if "severity" in rt.data:
            changes["severity"] = _severities(rt.table("severity"), base.severity)
        merged = dataclasses.replace(base, **changes)
        if merged.min_seconds and merged.max_seconds and merged.min_seconds > merged.max_seconds:
            raise ConfigError(
                f"{rt.key('min_seconds')}: {merged.min_seconds} is more than max_seconds {merged.max_seconds}"
            )
        if merged.campaign_start and merged.campaign_end and merged.campaign_start > merged.campaign_end:
            raise ConfigError(f"{rt.key('campaign_start')}: {merged.campaign_start} is after campaign_end")
        rules[kind] = merged
    return rules


def _severities(table: Table, base: Severities) -> Severities:
    """[rules.<kind>.severity]: per limit, "reject" (a rule) or "remind" (a guideline); unset keys keep the default."""
    table.unknown(set(LIMIT_NAMES))
    choices = tuple(s.value for s in Severity)
    changes: dict[str, Severity] = {}
    for name in LIMIT_NAMES:
        if name in table.data:
            value = table.text(name)
            if value not in choices:
                raise ConfigError(f"{table.key(name)}: must be one of {', '.join(choices)}, got {value!r}")
            changes[name] = Severity(value)
    return dataclasses.replace(base, **changes)


def _safety(table: Table) -> SafetySettings:
    """[safety]: caps on automatic replies and loop detection; every key optional."""
    table.unknown({"per_sender_daily", "global_hourly", "unknown_sender_hourly", "loop_subjects", "loop_minutes"})
    return SafetySettings(
        per_sender_daily=table.integer("per_sender_daily", SafetySettings.per_sender_daily, minimum=1),
        global_hourly=table.integer("global_hourly", SafetySettings.global_hourly, minimum=1),
        unknown_sender_hourly=table.integer("unknown_sender_hourly", SafetySettings.unknown_sender_hourly, minimum=1),
        loop_subjects=table.integer("loop_subjects", SafetySettings.loop_subjects, minimum=2),
        loop_minutes=table.integer("loop_minutes", SafetySettings.loop_minutes, minimum=1),
    )


def _service(table: Table) -> ServiceSettings:
    """[service]: attempts, timeouts, backoff and heartbeats of unattended operation; every key optional."""
    d = ServiceSettings()
    table.unknown({f.name for f in dataclasses.fields(ServiceSettings)})
    backoff = table.integer("backoff_seconds", d.backoff_seconds, minimum=1)
    cap = table.integer("backoff_max_seconds", d.backoff_max_seconds, minimum=1)
    if cap < backoff:
        raise ConfigError(f"{table.key('backoff_max_seconds')}: {cap} is less than backoff_seconds {backoff}")
    return ServiceSettings(
        max_attempts=table.integer("max_attempts", d.max_attempts, minimum=1),
        imap_timeout_seconds=float(table.integer("imap_timeout_seconds", int(d.imap_timeout_seconds), minimum=1)),
        backoff_seconds=backoff,
        backoff_max_seconds=cap,
        heartbeat_seconds=table.integer("heartbeat_seconds", d.heartbeat_seconds, minimum=1),
        reply_seconds=table.integer("reply_seconds", d.reply_seconds, minimum=1),
        judge_processes=_judge_processes(table),
    )


def _judge_processes(table: Table) -> int:
    value: int = table.integer("judge_processes", 0, minimum=0)
    if value > 16:
        raise ConfigError(f"{table.key('judge_processes')}: must be at most 16, got {value}")
    return value


def _status(table: Table) -> StatusSettings:
    """[status]: the thresholds of `intake status`; 0 switches a check off."""
    fields = [f.name for f in dataclasses.fields(StatusSettings)]
    table.unknown(set(fields))
    d = StatusSettings()
    return StatusSettings(**{name: table.integer(name, getattr(d, name), minimum=0) for name in fields})


def web_settings(table: Table, *, base: Path) -> WebSettings:
    """[web]: the workbench's address (`listen = "127.0.0.1:8080"`), signing key file and login length."""
    table.unknown({"listen", "secret_file", "session_hours"})
    d = WebSettings()
    host, port = d.host, d.port
    if "listen" in table.data:
        try:
            host, port = parse_listen(table.text("listen"))
        except ValueError as exc:
            raise ConfigError(f"{table.key('listen')}: {exc}") from exc
    secret = table.text("secret_file", None)
    return WebSettings(
        host=host,
        port=port,
        secret_file=(base / secret).resolve() if secret else None,
        session_hours=table.integer("session_hours", d.session_hours, minimum=1),
    )


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8080` for IPv6) as (host, port); ValueError says what is wrong."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f'expected "HOST:PORT" like "127.0.0.1:8080", got {text!r}')
    return host, int(port)


def load(path: Path) -> Settings:
    """Read and check the configuration file at path."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse(data, path=path.resolve())
