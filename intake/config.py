"""Read the TOML configuration once, check it, and turn it into typed settings.

This is the only module that reads the configuration file. Every error names the key
and what is wrong with it; secrets are read from the environment variable (or file) that
the configuration names, never from the TOML itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from campaign.notice import MailboxKind
from campaign.settings import (
    AFTER_ACTIONS,
    LATE_ACTIONS,
    ConfigError,
    DigestSettings,
    KindRules,
    MailboxSettings,
    ReplySettings,
    SafetySettings,
    Secret,
    ServiceSettings,
    Settings,
    SmtpSettings,
    StatusSettings,
    StoreSettings,
    Unit,
    default_rules,
    parse_ratio,
)
from ingest.rules.trust import allowed_sender_problem

SECURITY_CHOICES = ("ssl", "starttls", "none")
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\]+$")


class _Table:
    """A TOML table with its dotted location, for error messages."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def _get(self, name: str, types: type | tuple[type, ...], what: str, default: Any) -> Any:
        if name not in self.data:
            if default is _REQUIRED:
                raise ConfigError(f"{self.key(name)}: missing (expected {what})")
            return default
        value = self.data[name]
        if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            raise ConfigError(f"{self.key(name)}: expected {what}, got {value!r}")
        if not isinstance(value, types):
            raise ConfigError(f"{self.key(name)}: expected {what}, got {value!r}")
        return value

    def text(self, name: str, default: Any = None) -> Any:
        value = self._get(name, str, "a string", default)
        if isinstance(value, str) and not value.strip():
            raise ConfigError(f"{self.key(name)}: must not be empty")
        return value

    def integer(self, name: str, default: Any = None, *, minimum: int = 0) -> Any:
        value = self._get(name, int, "an integer", default)
        if isinstance(value, int) and value < minimum:
            raise ConfigError(f"{self.key(name)}: must be at least {minimum}, got {value}")
        return value

    def str_list(self, name: str, default: Any = None) -> Any:
        value = self._get(name, list, "a list of strings", default)
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str) or not item.strip():
                    raise ConfigError(f"{self.key(name)}: every item must be a non-empty string, got {item!r}")
            return tuple(value)
        return value

    def table(self, name: str, *, required: bool = True) -> _Table:
        value = self.data.get(name)
        if value is None:
            if required:
                raise ConfigError(f"{self.key(name)}: missing table [{self.key(name)}]")
            return _Table({}, self.key(name))
        if not isinstance(value, dict):
            raise ConfigError(f"{self.key(name)}: expected a table")
        return _Table(value, self.key(name))

    def tables(self, name: str) -> list[_Table]:
        value = self.data.get(name)
        if value is None:
            raise ConfigError(f"{self.key(name)}: missing (expected one or more [[{name}]] tables)")
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ConfigError(f"{self.key(name)}: expected an array of tables [[{name}]]")
        return [_Table(v, f"{self.key(name)}[{i}]") for i, v in enumerate(value)]

    def unknown(self, allowed: set[str]) -> None:
        if "password" in self.data and "password_env" in allowed:
            raise ConfigError(
                f"{self.key('password')}: passwords are never read from the configuration file; "
                "name an environment variable in password_env (or a file in password_file)"
            )
        extra = sorted(set(self.data) - allowed)
        if extra:
            raise ConfigError(f"{self.key(extra[0])}: unknown key (allowed: {', '.join(sorted(allowed))})")


_REQUIRED: Any = object()


def _security(table: _Table, default: str) -> str:
    value = table.text("security", default)
    if value not in SECURITY_CHOICES:
        raise ConfigError(f"{table.key('security')}: must be one of {', '.join(SECURITY_CHOICES)}, got {value!r}")
    return str(value)


def _secret(table: _Table, base: Path) -> Secret:
    env = table.text("password_env", None)
    file = table.text("password_file", None)
    if "password" in table.data:
        raise ConfigError(
            f"{table.key('password')}: passwords are never read from the configuration file; "
            "name an environment variable in password_env (or a file in password_file)"
        )
    if env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
        raise ConfigError(f"{table.key('password_env')}: not a valid environment variable name: {env!r}")
    return Secret(env=env, file=(base / file) if file else None)


def _address(table: _Table, name: str, default: Any = _REQUIRED) -> Any:
    value = table.text(name, default)
    if value is not None and not _EMAIL.match(value):
        raise ConfigError(f"{table.key(name)}: not an email address: {value!r}")
    return value


def _date(table: _Table, name: str) -> dt.date | None:
    value = table.data.get(name)
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ConfigError(f"{table.key(name)}: expected a date like 2020-08-20, got {value!r}")
    return value


def parse(data: Mapping[str, Any], *, path: Path) -> Settings:
    """Build Settings from parsed TOML; relative paths are taken from the file's folder."""
    base = path.parent
    root = _Table(data, "")
    root.unknown({"store", "smtp", "mailboxes", "digest", "units", "replies", "rules", "safety", "service", "status"})

    st = root.table("store")
    st.unknown({"url", "blob_dir"})
    url = st.text("url", _REQUIRED)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        url = "sqlite:///" + str((base / url.removeprefix("sqlite:///")).resolve())
    store = StoreSettings(url=url, blob_dir=(base / st.text("blob_dir", _REQUIRED)).resolve())

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
        }
    )
    smtp = SmtpSettings(
        host=sm.text("host", _REQUIRED),
        port=sm.integer("port", _REQUIRED, minimum=1),
        security=_security(sm, "ssl"),
        username=sm.text("username", "") if "username" in sm.data else "",
        password=_secret(sm, base),
        sender=_address(sm, "sender"),
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
            }
        )
        kind = mb.text("kind", _REQUIRED)
        if kind not in allowed_kinds:
            raise ConfigError(f"{mb.key('kind')}: must be one of {', '.join(sorted(allowed_kinds))}, got {kind!r}")
        name = mb.text("name", _REQUIRED)
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
        mailboxes.append(
            MailboxSettings(
                name=name,
                kind=MailboxKind(kind),
                address=_address(mb, "address", None) or mb.text("username", _REQUIRED),
                host=mb.text("host", _REQUIRED),
                port=mb.integer("port", _REQUIRED, minimum=1),
                security=_security(mb, "ssl"),
                username=mb.text("username", _REQUIRED),
                password=_secret(mb, base),
                folder=mb.text("folder", "INBOX"),
                poll_seconds=mb.integer("poll_seconds", 300, minimum=10),
                max_message_bytes=mb.integer("max_message_bytes", 60 * 1024 * 1024, minimum=1024),
                fetch_batch=mb.integer("fetch_batch", 20, minimum=1),
                cafile=(base / cafile) if cafile else None,
                deadline=_date(mb, "deadline"),
                authserv_id=mb.text("authserv_id", None),
                after=after,
                move_to=move_to,
            )
        )

    dg = root.table("digest")
    dg.unknown({"recipients", "time"})
    recipients = dg.str_list("recipients", _REQUIRED)
    for i, r in enumerate(recipients):
        if not _EMAIL.match(r):
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
        un.unknown({"name", "aliases", "activity_quota", "allowed_senders"})
        uname = un.text("name", _REQUIRED)
        aliases = un.str_list("aliases", ())
        for label in (uname, *aliases):
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
    )


def _rules(table: _Table) -> dict[MailboxKind, KindRules]:
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
                changes[name] = _date(rt, name)
        if "late" in rt.data:
            late = rt.text("late")
            if late not in LATE_ACTIONS:
                raise ConfigError(f"{rt.key('late')}: must be one of {', '.join(LATE_ACTIONS)}, got {late!r}")
            changes["late"] = late
        merged = dataclasses.replace(base, **changes)
        if merged.min_seconds and merged.max_seconds and merged.min_seconds > merged.max_seconds:
            raise ConfigError(
                f"{rt.key('min_seconds')}: {merged.min_seconds} is more than max_seconds {merged.max_seconds}"
            )
        if merged.campaign_start and merged.campaign_end and merged.campaign_start > merged.campaign_end:
            raise ConfigError(f"{rt.key('campaign_start')}: {merged.campaign_start} is after campaign_end")
        rules[kind] = merged
    return rules


def _safety(table: _Table) -> SafetySettings:
    """[safety]: caps on automatic replies and loop detection; every key optional."""
    table.unknown({"per_sender_daily", "global_hourly", "loop_subjects", "loop_minutes"})
    return SafetySettings(
        per_sender_daily=table.integer("per_sender_daily", SafetySettings.per_sender_daily, minimum=1),
        global_hourly=table.integer("global_hourly", SafetySettings.global_hourly, minimum=1),
        loop_subjects=table.integer("loop_subjects", SafetySettings.loop_subjects, minimum=2),
        loop_minutes=table.integer("loop_minutes", SafetySettings.loop_minutes, minimum=1),
    )


def _service(table: _Table) -> ServiceSettings:
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
    )


def _status(table: _Table) -> StatusSettings:
    """[status]: the thresholds of `intake status`; 0 switches a check off."""
    fields = [f.name for f in dataclasses.fields(StatusSettings)]
    table.unknown(set(fields))
    d = StatusSettings()
    return StatusSettings(**{name: table.integer(name, getattr(d, name), minimum=0) for name in fields})


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
