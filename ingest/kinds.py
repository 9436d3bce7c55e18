"""What each mailbox kind is called in Chinese, as senders and hosts read it."""

from __future__ import annotations

from store.enums import MailboxKind

LABELS: dict[MailboxKind, str] = {
    MailboxKind.OFFLINE_ACTIVITY: "线下活动汇总",
    MailboxKind.MICRO_VIDEO: "网络正能量微视频征集",
    MailboxKind.RECITATION: "网络正能量诵读作品征集",
    MailboxKind.PHOTOGRAPHY: "网络正能量摄影作品征集",
    MailboxKind.SERVICE_PLATFORM: "互联网+普惠服务优秀平台征集",
    MailboxKind.MICRO_FILM: "网络正能量微电影征集",
    MailboxKind.SONG: "网络正能量歌曲征集",
    MailboxKind.MICRO_LESSON: "网络正能量微课征集",
}


def label(kind: MailboxKind) -> str:
    return LABELS[kind]
