"""The workbench driven in a real browser (Playwright with the system's Chromium, /usr/bin/chromium),
against `intake web` as a process of its own, on the test database and the SMTP capture server:
log in, watch a video seek, overrule a rejection and see the correction arrive, shortlist and select
six works, download the package and open its list; a host is refused another collection's works and
files, and a form posted without its CSRF token is refused.

Screenshots of the main pages are written to the test's folder, and to docs/ (workbench-*.png) when
INTAKE_SCREENSHOTS=docs is set.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, Response, expect, sync_playwright
from webfixtures import PASSWORD, add_user, attachment_ids, populate, write_workbench_config

from devservers.smtpsink import SmtpSink
from intake.app import App
from intake.config import load

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",  # with Debian's chromium-l10n: dates in forms read 年/月/日 as a host's browser shows them
]
# As a host's browser: Chinese, Beijing time (a context's locale alone leaves the date fields in en-US)
LOCALE = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
VIDEO_HOST, PHOTO_HOST, OFFICE = "video@xn.example", "photos@dl.example", "office@qhgh.example"


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def site(tmp_path: Path, db_url: str, smtp: SmtpSink) -> Iterator[tuple[str, App, dict[str, int]]]:
    config = write_workbench_config(tmp_path / "config.toml", db_url=db_url, smtp=smtp)
    for email, *args in (
        (VIDEO_HOST, "--role", "host", "--collection", "micro-video"),
        (PHOTO_HOST, "--role", "host", "--collection", "photography"),
        (OFFICE, "--role", "province"),
    ):
        add_user(config, email, *args)
    app = App.build(load(config))
    ids = populate(app, tmp_path, video_seconds=40)
    app.send_replies()  # the automatic answers went out before anyone looked
    smtp.clear()
    port = _free_port()
    intake = Path(sys.executable).with_name("intake")
    log = (tmp_path / "web.log").open("wb")
    proc = subprocess.Popen(
        [str(intake), "--config", str(config), "web", "--listen", f"127.0.0.1:{port}"], stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/login", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "web.log").read_text()
                time.sleep(0.1)
        yield base, app, ids
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        env = {**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"}
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, env=env)
        yield chromium
        chromium.close()


def _login(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("总览")


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"workbench-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("INTAKE_SCREENSHOTS") == "docs":
        shutil.copy(path, ROOT / "docs" / path.name)


@pytest.mark.slow
def test_a_host_works_through_the_workbench_in_a_browser(
    site: tuple[str, App, dict[str, int]], browser: Browser, smtp: SmtpSink, tmp_path: Path
) -> None:
    base, app, ids = site
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True, **LOCALE)
    page = context.new_page()
    _login(page, base, OFFICE)
    _shot(page, tmp_path, "overview")

    # Given the micro-video host, the rejected 40-second video plays and seeks
    context.clear_cookies()
    _login(page, base, VIDEO_HOST)
    page.click("nav >> text=微视频")
    ranges: list[Response] = []
    page.on("response", lambda r: ranges.append(r) if r.status == 206 and "/files/" in r.url else None)
    page.click("text=《战疫路上》")
    video = page.locator("video")
    video.evaluate("v => new Promise(ok => v.readyState >= 1 ? ok() : v.addEventListener('loadedmetadata', ok))")
    assert video.evaluate("v => v.duration") == pytest.approx(40, abs=1)
    seeked = video.evaluate(
        "v => new Promise(ok => {"
        " v.addEventListener('seeked', () => ok(v.currentTime), {once: true}); v.currentTime = 25; })"
    )
    assert seeked == pytest.approx(25, abs=1)
    assert ranges and ranges[0].headers["content-range"].startswith("bytes ")
    _shot(page, tmp_path, "work")

    # When the host overrules the rejection, the unit gets the correction
    page.check("input[name=verdict][value=accept]")
    page.fill("textarea[name=reason]", "片长经人工核对，按承办单位意见予以登记")
    page.click("text=确认改判")
    expect(page.locator(".alert.ok")).to_contain_text("已改为“通过”")
    expect(page.locator(".history")).to_contain_text("审核结果由“退回”改为“通过”（已通知报送单位）")
    (mail,) = smtp.wait_for(1, timeout=30)
    assert mail.rcpt_tos == ("xnzgh@163.com",)
    assert str(mail.message()["Subject"]) == "更正：西宁市总工会《战疫路上》（经复核予以登记）"

    # A form posted without its CSRF token is refused
    refused = page.request.post(f"{base}/works/{ids['video']}/decide", form={"verdict": "reject", "reason": "x"})
    assert refused.status == 403

    # The photography host is refused the video's page and file
    context.clear_cookies()
    _login(page, base, PHOTO_HOST)
    (video_file,) = attachment_ids(app, ids["video"])
    assert page.request.get(f"{base}/files/{video_file}").status == 404
    page.goto(f"{base}/works/{ids['video']}")
    expect(page.locator("h1")).to_have_text("找不到页面")

    # Six works shortlisted, then selected, from the list: one click each
    page.goto(f"{base}/collections/photography")
    for stage in ("初选", "推荐"):
        for i in range(1, 7):
            page.locator(f"#w{ids[f'photo{i}']}").get_by_role("button", name=stage, exact=True).click()
            page.wait_for_load_state()
    expect(page.locator(".tally")).to_contain_text("6 / 6 推荐")
    _shot(page, tmp_path, "collection")

    # The package downloads, and its list is Annex 2
    with page.expect_download() as download:
        page.click("text=下载推荐作品包")
    data = Path(download.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "1_西宁市总工会_光影1/光影1.jpg" in zf.namelist()
        sheet = load_workbook(io.BytesIO(zf.read("附件2_报送作品表.xlsx"))).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0] == ["序号", "单位", "作品名称", "类别", "时长或尺寸", "收到日期", "初评意见"]
    assert len(rows) == 7 and rows[6][1] == "国网青海省电力公司工会"

    # On a phone the list is one column and the navigation still fits
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, **LOCALE)
    small = phone.new_page()
    _login(small, base, PHOTO_HOST)
    small.goto(f"{base}/collections/photography")
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    _shot(small, tmp_path, "phone")
    phone.close()
    context.close()
