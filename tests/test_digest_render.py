"""The digest's HTML as a browser shows it: headless Chromium renders it to a PNG that must not be blank.

Set INTAKE_DIGEST_SAMPLE=docs/digest-sample.png to keep the rendered picture (the README shows it).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from test_digest import DAY, Campaign, at, load_traffic, parts, work
from test_digest import campaign as campaign  # the fixture, re-exported so that pytest finds it here

from devservers import samples
from intake.app import App
from report.digest import preview, send_digest
from store.models import MailboxState, Message

pytestmark = [pytest.mark.servers, pytest.mark.slow]

WIDTH, HEIGHT = 1000, 1400


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "headless Chromium is needed: apt-get install -y chromium (scripts/setup.sh installs it)"
    return found


def screenshot(html: Path, png: Path, *, profile: Path, height: int = HEIGHT) -> None:
    """Render a local HTML file with nothing else going on (no network, no extensions, a fresh profile)."""
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={WIDTH},{height}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


def close(pixel: tuple[int, int, int], colour: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def full_roster(campaign: Campaign) -> None:
    """Use the example configuration's roster: the 12 units of Annex 1 (65 activities) and the others."""
    example = (Path(__file__).resolve().parents[1] / "config.example.toml").read_text(encoding="utf-8")
    roster = example[example.index("[[units]]") :]
    text = campaign.config.read_text(encoding="utf-8")
    head, _, rest = text.partition("[[units]]")
    works = rest[rest.index("\n[[mailboxes]]") :]
    campaign.config.write_text(head + roster + works, encoding="utf-8")


def more_traffic(campaign: Campaign) -> None:
    """The rest of a week: more units report, one reaches its quota, a unit without a quota reports."""
    report = samples.offline_report
    campaign.reports(report(unit="省能源化工机冶工会", sender="nyhg@163.com", client="outlook"))
    campaign.reports(
        report(
            unit="省能源化工机冶工会",
            sender="nyhg@163.com",
            photos=3,
            description="6月13日，我会在三个基层单位开展线下活动2场，参加职工150人。",
        )
    )
    campaign.reports(
        report(
            unit="中国铁路青藏集团有限公司工会",
            sender="qzjt@qq.com",
            client="qq",
            photos=4,
            description="6月以来共开展“好网民”进站区线下活动5场，覆盖职工600余人。",
        )
    )
    campaign.reports(report(unit="国网青海省电力公司工会", sender="gwqh@126.com", client="netease"))
    campaign.reports(report(unit="中国电信青海省分公司工会", sender="dx@189.cn", photos=2))
    campaign.reports(report(unit="海东市总工会", sender="hdzgh@163.com"))
    campaign.works(work(unit="国网青海省电力公司工会", title="网上职工之家", sender="gwqh@126.com"))


def backdate(app: App, day: dt.date) -> None:
    """Give the messages the times of the days before day (they arrived just now), for a realistic picture."""
    with app.sessions.begin() as session:
        for n, msg in enumerate(session.scalars(select(Message).order_by(Message.id))):
            when = at(day - dt.timedelta(days=2), 9) + dt.timedelta(minutes=157 * n)
            msg.received_at = when.astimezone(dt.UTC).replace(tzinfo=None)
        for state in session.scalars(select(MailboxState)):
            state.last_ok_at = state.last_poll_at = at(day, 7, 25).astimezone(dt.UTC).replace(tzinfo=None)


def test_the_digest_renders_in_chromium(campaign: Campaign, tmp_path: Path) -> None:
    full_roster(campaign)
    app = campaign.app()
    load_traffic(campaign, app)
    yesterday = DAY - dt.timedelta(days=1)
    assert send_digest(app, day=yesterday, now=at(yesterday, 7, 30)).value == "sent"
    more_traffic(campaign)
    app.poll()
    app.send_replies()
    backdate(app, DAY)
    _, html = parts(preview(app, day=DAY, now=at(DAY, 7, 30)))
    app.engine.dispose()
    assert "<b>合计</b>" in html and "/65" in html
    page = tmp_path / "digest.html"
    page.write_text(html, encoding="utf-8")
    png = tmp_path / "digest.png"
    screenshot(page, png, profile=tmp_path / "profile", height=HEIGHT)
    with Image.open(png) as shot:
        image = shot.convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    found = image.getcolors(WIDTH * HEIGHT)  # (count, colour) for every colour in the picture
    assert found is not None
    colours = [(n, (c[0], c[1], c[2])) for n, c in found if isinstance(c, tuple)]

    def count(test: Callable[[tuple[int, int, int]], bool]) -> int:
        return sum(n for n, colour in colours if test(colour))

    ink = count(lambda p: sum(p) < 750)  # anything not (nearly) white
    assert ink > 0.3 * WIDTH * HEIGHT, f"the page looks blank: {ink} of {WIDTH * HEIGHT} pixels are not white"
    assert max(n for n, _ in colours) < 0.8 * WIDTH * HEIGHT  # not one flat colour
    # the header band and the progress bars are drawn
    assert count(lambda p: close(p, (0x1F, 0x4E, 0x79))) > 20_000  # the title band
    assert count(lambda p: close(p, (0x3F, 0x7F, 0xBF))) > 500  # activity bars in progress
    assert count(lambda p: close(p, (0x2E, 0x7D, 0x32))) > 300  # a quota reached
    assert count(lambda p: close(p, (0xE3, 0xE8, 0xEC), 4)) > 2000  # the bars' empty part
    assert count(lambda p: sum(p) < 200) > 5000  # dark text in the body
    sample = os.environ.get("INTAKE_DIGEST_SAMPLE")
    if sample:
        full = tmp_path / "full.png"
        screenshot(page, full, profile=tmp_path / "profile", height=4000)
        with Image.open(full) as shot:
            trimmed = _trim(shot.convert("RGB"))
        Path(sample).parent.mkdir(parents=True, exist_ok=True)
        small = trimmed.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        small.save(sample, optimize=True)


def _trim(image: Image.Image) -> Image.Image:
    """Cut the empty background below the message."""
    background = image.getpixel((5, image.height - 5))
    bottom = image.height
    while bottom > 100 and all(image.getpixel((x, bottom - 1)) == background for x in range(0, image.width, 7)):
        bottom -= 1
    return image.crop((0, 0, image.width, min(image.height, bottom + 16)))
