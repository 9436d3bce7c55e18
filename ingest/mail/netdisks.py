"""Net-disk share links (百度网盘, 阿里云盘, 夸克网盘, 天翼云盘, 115, 蓝奏云, 微云, 123云盘) in a message body.

A work too large for mail is often sent as a share link with its code (提取码/访问码/密码), pasted
as the net-disk's app copies it. A link counts only when its URL, parsed, has one of the known hosts
below with the share path, no user part and no other port; the code is read from the URL
(`?pwd=x7k2`) or from the words right after the link (or right before it), the file name from the
share text (`分享的文件：活动视频.mp4`, `分享了「微视频.mp4」`, `「微视频.mp4」` right before the link).
The links are never followed.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from ingest.mail.urls import web_location


@dataclass(frozen=True, kw_only=True)
class NetDisk:
    """One net-disk service: its name, its share hosts and the paths its shares live under."""

    name: str
    hosts: tuple[str, ...]  # exact hosts; a leading "*." also takes any subdomain
    paths: tuple[str, ...]  # share paths ("" : every path)
    code_words: tuple[str, ...] = ("提取码", "访问码", "密码")
    code_params: tuple[str, ...] = ("pwd", "password")


NETDISKS: tuple[NetDisk, ...] = (
    NetDisk(name="百度网盘", hosts=("pan.baidu.com", "yun.baidu.com"), paths=("/s/", "/share/")),
    NetDisk(
        name="阿里云盘",
        hosts=("aliyundrive.com", "www.aliyundrive.com", "alipan.com", "www.alipan.com"),
        paths=("/s/",),
    ),
    NetDisk(name="夸克网盘", hosts=("pan.quark.cn",), paths=("/s/",)),
    NetDisk(name="天翼云盘", hosts=("cloud.189.cn", "h5.cloud.189.cn"), paths=("/t/", "/web/share", "/share.html")),
    NetDisk(name="115网盘", hosts=("115.com", "www.115.com", "115cdn.com"), paths=("/s/",)),
    NetDisk(
        name="蓝奏云",
        hosts=("*.lanzou.com", *(f"*.lanzou{c}.com" for c in "abcdefghijklmnopqrstuvwxyz")),  # lanzoui, lanzoux…
        paths=("/",),
    ),
    NetDisk(name="微云", hosts=("share.weiyun.com",), paths=("/",)),
    NetDisk(name="123云盘", hosts=("123pan.com", "www.123pan.com", "123pan.cn", "www.123pan.cn"), paths=("/s/",)),
)
_CODE = r"[A-Za-z0-9]{2,8}"
_CODE_AFTER = re.compile(
    rf"(?:提取码|访问码|分享码|提取密码|密码|code)\s*[:：]?\s*[(（]?\s*(?P<code>{_CODE})(?![A-Za-z0-9])", re.I
)
_NAME = re.compile(
    r"(?:分享的文件|分享文件|文件名称?|作品名称?)\s*[:：]\s*(?P<a>[^\s\n<>\"]{1,120})"
    r"|分享了\s*[「『“\"](?P<b>[^」』”\"\n]{1,120})[」』”\"]"
    r"|[「『](?P<c>[^」』\n]{1,120}\.[A-Za-z0-9]{2,5})[」』]\s*(?:链接\s*[:：]?\s*)?$"  # 「匠心.mp4」https://…
)


def netdisk_of(url: str) -> NetDisk | None:
    """The net-disk a share URL belongs to, or None: exact host (or its subdomain where the table
    says so), a share path, http(s), no user part, no other port."""
    location = web_location(url)
    if location is None:
        return None
    host, path = location
    if path == "/":
        return None  # a home page shares nothing
    for disk in NETDISKS:
        if any(_host_is(host, known) for known in disk.hosts) and any(path.startswith(p) for p in disk.paths):
            return disk
    return None


def _host_is(host: str, known: str) -> bool:
    if known.startswith("*."):
        base = known[2:]
        return host == base or host.endswith("." + base)
    return host == known


def code_of(url: str, disk: NetDisk, *, after: str, before: str) -> str | None:
    """The share's code: in the URL (?pwd=…), else written right after the link, else right before it."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    for param in disk.code_params:
        for value in query.get(param, []):
            if re.fullmatch(_CODE, value):
                return value
    found = _CODE_AFTER.search(after[:120])
    if found:
        return found.group("code")
    earlier = list(_CODE_AFTER.finditer(before[-80:]))
    return earlier[-1].group("code") if earlier else None


def filename_of(before: str) -> str | None:
    """The shared file's name as the share text writes it before the link (the nearest one)."""
    found = list(_NAME.finditer(before[-300:]))
    if not found:
        return None
    last = found[-1]
    return (last.group("a") or last.group("b") or last.group("c") or "").strip().rstrip("，,。") or None
