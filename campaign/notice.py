"""The notice's facts as data: kinds and their names, Annex 1, deadlines, the minimum of works, time.

Everything here is stated by the notice (青总发〔2020〕25号) or is a fixed convention of this
service; nothing here imports anything of ours, so every layer may use it.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import unicodedata
import zoneinfo
from typing import NamedTuple

#: Every time the service shows, and every date it judges by, is Beijing time.
LOCAL_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")

#: The header on every mail this service sends; mail carrying it is never answered.
OWN_HEADER = "X-Mailbox-Intake"

#: 每项至少上报6篇（件）: the least number of works each collection reports upward.
MIN_WORKS = 6

#: The campaign runs 2020年5—9月 (5月启动, 6月至8月推进开展); photos taken outside are noted.
CAMPAIGN_START = dt.date(2020, 5, 1)
CAMPAIGN_END = dt.date(2020, 8, 31)


class MailboxKind(enum.StrEnum):
    """The eight mailboxes of the campaign."""

    OFFLINE_ACTIVITY = "offline-activity"
    MICRO_VIDEO = "micro-video"
    RECITATION = "recitation"
    PHOTOGRAPHY = "photography"
    SERVICE_PLATFORM = "service-platform"
    MICRO_FILM = "micro-film"
    SONG = "song"
    MICRO_LESSON = "micro-lesson"


#: What each mailbox kind is called, as senders read it in a reply.
KIND_NAMES: dict[MailboxKind, str] = {
    MailboxKind.OFFLINE_ACTIVITY: "线下活动汇总",
    MailboxKind.MICRO_VIDEO: "网络正能量微视频征集",
    MailboxKind.RECITATION: "网络正能量诵读作品征集",
    MailboxKind.PHOTOGRAPHY: "网络正能量摄影作品征集",
    MailboxKind.SERVICE_PLATFORM: "互联网+普惠服务优秀平台征集",
    MailboxKind.MICRO_FILM: "网络正能量微电影征集",
    MailboxKind.SONG: "网络正能量歌曲征集",
    MailboxKind.MICRO_LESSON: "网络正能量微课征集",
}

#: The short names the hosts read in the digest and the export.
KIND_SHORT: dict[MailboxKind, str] = {
    MailboxKind.OFFLINE_ACTIVITY: "线下活动",
    MailboxKind.MICRO_VIDEO: "微视频",
    MailboxKind.RECITATION: "诵读",
    MailboxKind.PHOTOGRAPHY: "摄影",
    MailboxKind.SERVICE_PLATFORM: "普惠平台",
    MailboxKind.MICRO_FILM: "微电影",
    MailboxKind.SONG: "歌曲",
    MailboxKind.MICRO_LESSON: "微课",
}

#: The seven collections and who organises each, as Annex 1 assigns them (its order is the digest's).
ORGANISERS: dict[MailboxKind, str] = {
    MailboxKind.MICRO_VIDEO: "西宁市总工会",
    MailboxKind.SERVICE_PLATFORM: "海南州总工会",
    MailboxKind.MICRO_FILM: "黄南州总工会",
    MailboxKind.RECITATION: "省能源化工机冶工会",
    MailboxKind.MICRO_LESSON: "省教科文卫体工会",
    MailboxKind.SONG: "中国铁路青藏集团有限公司工会",
    MailboxKind.PHOTOGRAPHY: "国网青海省电力公司工会",
}

#: The subject conventions: `单位+线下活动汇总` for reports, `单位+《作品名称》` for works.
REPORT_SUFFIX = "线下活动汇总"
EXAMPLE_UNIT = "西宁市总工会"
EXAMPLE_TITLE = "战疫路上的劳动者"


def convention(kind: MailboxKind) -> tuple[str, str]:
    """(the subject convention, an example) for a mailbox kind, as shown to senders."""
    if kind is MailboxKind.OFFLINE_ACTIVITY:
        return "单位+线下活动汇总", f"{EXAMPLE_UNIT}{REPORT_SUFFIX}"
    return "单位+《作品名称》", f"{EXAMPLE_UNIT}《{EXAMPLE_TITLE}》"


class Deadline(NamedTuple):
    """A date of the notice's timetable (三、进度安排) and what is due then."""

    month: int
    day: int
    what: str


#: 8月20日: reports and the collections' selections are due (a mailbox's configured deadline wins).
REPORT_DEADLINE = Deadline(
    8, 20, "各单位报送线下活动开展情况和征集活动主要成果；各子项目承办单位遴选优秀作品报送省总，每项至少 6 件"
)
#: 9月25日: the province recommends works upward.
UPWARD_DEADLINE = Deadline(9, 25, "省总工会遴选优秀网络文化作品，按项目类别推荐报送中央网信办和全国总工会")

#: How the hosts read a message's status (keyed by the status value) and its tone in the digest.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "accepted": ("通过", "ok"),
    "rejected": ("退回", "warn"),
    "failed": ("处理失败", "bad"),
    "received": ("待处理", "wait"),
    "ignored": ("不予处理", "muted"),
    "duplicate": ("重复投递", "muted"),
    "conversation": ("来信", "wait"),
}

#: How the hosts read an automatic reply's kind and state (keyed by the reply kind and status values).
REPLY_KIND_LABELS: dict[str, str] = {"acknowledgement": "回执", "rejection": "退回通知", "correction": "更正通知"}
REPLY_STATUS_LABELS: dict[str, str] = {
    "pending": "待发送",
    "sent": "已发送",
    "failed": "发送失败",
    "suppressed": "未发送",
    "held": "暂缓发送",
}

#: How the hosts read a file's kind (keyed by the attachment kind value).
FILE_KIND_LABELS: dict[str, str] = {
    "photo": "照片",
    "video": "视频",
    "audio": "音频",
    "document": "文档",
    "archive": "压缩包",
    "other": "其他",
}


def local(ts: dt.datetime) -> dt.datetime:
    """A stored time (naive UTC, as the store keeps it, or aware) in Beijing time."""
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=dt.UTC)
    return aware.astimezone(LOCAL_TZ)


def shown_seconds(seconds: float) -> int:
    """The whole seconds a player shows for a measured duration (cut, not rounded: 179.52 s is 2:59)."""
    return max(0, math.floor(seconds + 1e-6))  # 180.0 measured as 179.9999996 is still 3:00


def duration_text(seconds: float) -> str:
    """2分10秒, 6分钟, 45秒: as a player shows the duration."""
    minutes, rest = divmod(shown_seconds(seconds), 60)
    if minutes == 0:
        return f"{rest}秒"
    return f"{minutes}分{rest}秒" if rest else f"{minutes}分钟"


def date_text(day: dt.date) -> str:
    """A date as official documents write it: 2020年8月20日 (no zero padding)."""
    return f"{day.year}年{day.month}月{day.day}日"


def datetime_text(moment: dt.datetime) -> str:
    """A date and time as people write them: 2020年8月20日 9:05 (the time as it is, no conversion)."""
    return f"{date_text(moment)} {moment.hour}:{moment.minute:02d}"


def today(now: dt.datetime | None = None) -> dt.date:
    """The campaign's date now (Beijing time)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(LOCAL_TZ).date()


NAME_NOISE = re.compile(r"[\s+＋·・\-_、,，.。:：;；\"'“”‘’()（）\[\]【】「」『』<>《》〈〉]+")


def name_key(text: str) -> str:
    """The form unit names and titles are compared in: NFKC, case folded, no spaces, brackets or joiners."""
    return NAME_NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()
