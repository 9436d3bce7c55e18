"""Large-attachment links are the providers' exact hosts; look-alikes stay plain text."""

from __future__ import annotations

import pytest

from ingest.mail.links import find_links

BLOCK = "从网易163邮箱发来的超大附件\n活动视频.mp4 (128.03M, 2020年11月27日 21:59 到期)\n"


@pytest.mark.parametrize(
    "url",
    [
        "https://fs.163.com/fs/display/?p=X-NETEASE-HUGE-ATTACHMENT&file=abc",
        "https://mail.163.com/large-attachment-download/index.html?p=abc",
        "https://mail.qq.com/cgi-bin/ftnExs_download?k=abc&t=exs_ftn_download",
        "https://wx.mail.qq.com/ftn/download?func=3&k=abc",
    ],
)
def test_provider_links_are_recorded_with_name_size_and_expiry(url: str) -> None:
    (link,) = find_links(BLOCK + url + "\n", "")
    assert (link.url, link.filename, link.size, link.expires) == (
        url,
        "活动视频.mp4",
        "128.03M",
        "2020年11月27日 21:59",
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://fs.163.com.evil.example/fs/display/?file=abc",
        "https://fs.126.com@evil.example/fs/display/?file=abc",
        "https://user:pw@fs.126.com/fs/display/?file=abc",
        "https://evilfs.163.com/fs/display/?file=abc",
        "https://fs.163.com:8443/fs/display/?file=abc",
        "https://mail.qq.com/cgi-bin/frame_html?sid=abc",
        "https://evil.example/?next=https://fs.163.com/abc",
    ],
)
def test_look_alike_hosts_are_not_links(url: str) -> None:
    assert find_links(BLOCK + url + "\n", f'<a href="{url}">{url}</a>') == []
