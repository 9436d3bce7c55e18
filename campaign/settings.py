"""The configuration as typed values, every layer's view of it; `intake.config` is the one reader.

The settings are frozen dataclasses with keyword-only fields. The configuration file is parsed
once, at the entry point, into a `Settings`, which is passed down; nothing below the shell reads
the file or the environment, except a `Secret` when its password is needed.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from campaign.notice import CAMPAIGN_END, CAMPAIGN_START, MailboxKind


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key."""


LateAction = Literal["accept", "reject"]
LATE_ACTIONS: tuple[LateAction, ...] = ("accept", "reject")
AfterAction = Literal["keep", "seen", "move"]
AFTER_ACTIONS: tuple[AfterAction, ...] = ("keep", "seen", "move")
IDLE_RENEW_SECONDS = 1500  # 25 minutes: servers may end an IDLE after 30 (RFC 2177 says re-issue within 29)
IDLE_RENEW_MAX_SECONDS = 1740
_RATIO = re.compile(r"^\s*(\d{1,3})\s*:\s*(\d{1,3})\s*$")


def parse_ratio(text: str) -> tuple[int, int] | None:
    """`16:9` as (16, 9); None for anything else."""
    match = _RATIO.match(text)
    if match is None or int(match.group(1)) == 0 or int(match.group(2)) == 0:
        return None
    return int(match.group(1)), int(match.group(2))


class MissingSecret(LookupError):
    """A password the configuration points at is not there; the text names where it looked."""


@dataclass(frozen=True, kw_only=True)
class Secret:
    """Where a password comes from: an environment variable or a file, never the config file."""

    env: str | None = None
    file: Path | None = None

    def read(self) -> str:
        if self.file is not None:
            try:
                return self.file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise MissingSecret(f"password_file: cannot read {self.file}: {exc.strerror}") from exc
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise MissingSecret(f"password_env: the environment variable {self.env} is not set")
            return value
        return ""


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # ssl | starttls | none
    username: str
    password: Secret
    sender: str
    max_attempts: int = 8
    retry_seconds: int = 60
    timeout_seconds: float = 30.0
    cafile: Path | None = None


class Severity(enum.StrEnum):
    """What a work outside one limit gets: rejected (a rule of the notice) or accepted with a reminder
    to the sender and a remark for the hosts (a guideline: the notice's 以…为宜)."""

    REJECT = "reject"
    REMIND = "remind"


@dataclass(frozen=True, kw_only=True)
class Severities:
    """Per limit of a kind, whether a work outside it is rejected or reminded: `[rules.<kind>.severity]`."""

    duration: Severity = Severity.REJECT  # min_seconds, max_seconds
    audio: Severity = Severity.REJECT  # require_audio
    format: Severity = Severity.REJECT  # require_mp4
    aspect: Severity = Severity.REJECT  # aspect
    resolution: Severity = Severity.REJECT  # min_width, min_height
    photo_size: Severity = Severity.REJECT  # photo_min_long_side


LIMIT_NAMES: tuple[str, ...] = ("duration", "audio", "format", "aspect", "resolution", "photo_size")


@dataclass(frozen=True, kw_only=True)
class KindRules:
    """The limits of one mailbox kind; None (0 in the config) means no limit."""

    min_seconds: int | None = None
    max_seconds: int | None = None
    duration_tolerance_seconds: int = 0  # slack on both limits, in whole seconds as players show them
    require_audio: bool = False  # a video work must have a sound track
    silence_db: float | None = -60.0  # a sound track whose loudest moment is at or below this is noted as silent
    aspect: str | None = None  # "16:9"
    aspect_tolerance: float = 0.03  # relative: 16:9 ± 3 %
    min_width: int | None = None  # 1280x720: the picture's short side (as displayed) must reach 720;
    min_height: int | None = None  # with only one of the two set, its long side must reach that one
    require_mp4: bool = False
    photo_min_long_side: int | None = None
    # a picture whose long side (decoded) is shorter is noted and not counted as a photo: signature
    # logos, icons, tracking pixels; 1×1 pictures never count, whatever this says
    picture_min_long_side: int | None = 300
    campaign_start: dt.date | None = None  # photos taken outside the window are noted, not rejected
    campaign_end: dt.date | None = None
    late: LateAction = "accept"
    severity: Severities = field(default_factory=Severities)

    def aspect_value(self) -> float | None:
        ratio = parse_ratio(self.aspect) if self.aspect else None
        return ratio[0] / ratio[1] if ratio else None


# The defaults read the notice's 报送作品要求 limit by limit: what it states flatly (…格式为 MP4,
# 时间 3—5 分钟, 长宽比例为 16:9, 时长5分钟以内, 制成短视频) rejects; what it gives as a guideline
# (诵读: 时间以 3—8 分钟为宜) only reminds.
DEFAULT_RULES: Mapping[MailboxKind, KindRules] = {
    MailboxKind.OFFLINE_ACTIVITY: KindRules(campaign_start=CAMPAIGN_START, campaign_end=CAMPAIGN_END),
    # 微视频: "视频文件格式为 MP4，画面清晰，声音清楚，…时间 3—5 分钟，长宽比例为 16 : 9": all rules
    MailboxKind.MICRO_VIDEO: KindRules(
        min_seconds=180,
        max_seconds=300,
        aspect="16:9",
        min_width=1280,
        min_height=720,
        require_mp4=True,
        require_audio=True,
    ),
    # 诵读: "所有作品制成短视频" is a rule (a video, with its sound); "时间以 3—8 分钟为宜" a guideline
    MailboxKind.RECITATION: KindRules(
        min_seconds=180, max_seconds=480, require_audio=True, severity=Severities(duration=Severity.REMIND)
    ),
    # 摄影: "主题鲜明，成像清晰": a rule, read as an original's size (a small photo is set aside)
    MailboxKind.PHOTOGRAPHY: KindRules(photo_min_long_side=1920),
    MailboxKind.SERVICE_PLATFORM: KindRules(),
    # 微电影: no length or shape in the notice; a film without a sound track is taken as an export fault
    MailboxKind.MICRO_FILM: KindRules(require_audio=True),
    # 歌曲: "录制小样，时长5分钟以内": a rule
    MailboxKind.SONG: KindRules(max_seconds=300),
    # 微课: "画面合理布局，成像清晰，无质量缺陷，时长5分钟以内": rules
    MailboxKind.MICRO_LESSON: KindRules(max_seconds=300, min_width=1280, min_height=720, require_audio=True),
}


def default_rules() -> dict[MailboxKind, KindRules]:
    return dict(DEFAULT_RULES)


@dataclass(frozen=True, kw_only=True)
class SafetySettings:
    """The caps on automatic replies; see the module docstring."""

    per_sender_daily: int = 10
    global_hourly: int = 200  # replies to known senders (a unit's allowed address, or one that wrote before)
    unknown_sender_hourly: int = 10  # replies to first contacts, counted apart from global_hourly
    loop_subjects: int = 5
    loop_minutes: int = 60


@dataclass(frozen=True, kw_only=True)
class StoreSettings:
    url: str
    blob_dir: Path


@dataclass(frozen=True, kw_only=True)
class MailboxSettings:
    name: str
    kind: MailboxKind
    address: str
    host: str
    port: int
    security: str
    username: str
    password: Secret
    folder: str = "INBOX"
    poll_seconds: int = 300
    max_message_bytes: int = 60 * 1024 * 1024
    fetch_batch: int = 20
    cafile: Path | None = None
    deadline: dt.date | None = None
    authserv_id: str | None = None  # whose Authentication-Results to read (the provider's own)
    after: AfterAction = "keep"  # what is done to a message in the mailbox once its outcome is committed
    move_to: str | None = None  # the folder for after = "move"
    idle: bool = True  # wait for new mail with IMAP IDLE where the server offers it (the poll stays the fallback)
    idle_renew_seconds: int = IDLE_RENEW_SECONDS  # IDLE is ended and issued again this often (RFC 2177: < 29 min)


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """How the service behaves when things go wrong: attempts, timeouts, backoff, heartbeats."""

    max_attempts: int = 3  # judging a message is tried this often (a crash counts), then it stays failed
    imap_timeout_seconds: float = 60.0  # every IMAP call (connect, login, search, fetch) gives up after this
    backoff_seconds: int = 30  # the first wait after a failed poll of a mailbox; doubles, with jitter
    backoff_max_seconds: int = 1800  # the longest wait between tries of a failing mailbox
    heartbeat_seconds: int = 10  # each worker writes its heartbeat this often; silent for 2.5x this, it is dead
    reply_seconds: int = 60  # how often pending replies are sent
    # processes judging a large poll beside the fetching; 0: one per CPU (at most 4); 1: the poller alone
    judge_processes: int = 0

    @property
    def stale_seconds(self) -> float:
        """A worker whose heartbeat is older than this is taken for dead: its leases and locks are free."""
        return self.heartbeat_seconds * 2.5


@dataclass(frozen=True, kw_only=True)
class StatusSettings:
    """When `intake status` says that something needs attention (exit 1); 0 switches a check off."""

    poll_failures: int = 3  # consecutive failed polls of one mailbox
    poll_age_minutes: int = 60  # no good poll of a mailbox for this long
    failed_messages: int = 1  # messages left failed
    received_minutes: int = 30  # a message stored but not judged for this long
    given_up_replies: int = 1  # replies given up
    held_replies: int = 1  # replies held by a cap on replies (sent later, when the cap allows)
    reply_age_minutes: int = 60  # a pending reply older than this
    digest_age_hours: int = 0  # no digest sent for this long (off by default)


@dataclass(frozen=True, kw_only=True)
class DigestSettings:
    recipients: tuple[str, ...]
    time: dt.time


@dataclass(frozen=True, kw_only=True)
class Unit:
    name: str
    aliases: tuple[str, ...] = ()  # other ways senders write it, matched exactly: the override
    former: tuple[str, ...] = ()  # names the unit had before (a renamed company's union)
    registered: str | None = None  # its registered full name, where the notice's wording differs
    activity_quota: int | None = None
    allowed_senders: tuple[str, ...] = ()  # addresses or domains; empty: anyone may send for the unit


@dataclass(frozen=True, kw_only=True)
class ReplySettings:
    templates_dir: Path | None = None
    campaign: str = "网聚职工正能量·争做中国好网民"
    contact: str = "省总工会网络和社会工作部"


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """The hosts' workbench (`intake web`): where it listens and where its signing key is kept."""

    host: str = "127.0.0.1"
    port: int = 8080
    secret_file: Path | None = None  # None: `web-secret` beside the blob folder, made at first start
    session_hours: int = 12  # a login lasts this long


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The whole configuration, as typed values."""

    path: Path
    store: StoreSettings
    smtp: SmtpSettings
    mailboxes: tuple[MailboxSettings, ...]
    digest: DigestSettings
    units: tuple[Unit, ...]
    replies: ReplySettings = field(default_factory=ReplySettings)
    rules: dict[MailboxKind, KindRules] = field(default_factory=default_rules)  # every kind, defaults filled
    safety: SafetySettings = field(default_factory=SafetySettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    status: StatusSettings = field(default_factory=StatusSettings)
    web: WebSettings = field(default_factory=WebSettings)

    def mailbox(self, name: str) -> MailboxSettings:
        for box in self.mailboxes:
            if box.name == name:
                return box
        known = ", ".join(b.name for b in self.mailboxes)
        raise ConfigError(f"no mailbox named {name!r} in the configuration (known: {known})")
