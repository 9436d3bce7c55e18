"""What a host sees: the campaign at a glance, a collection's works with filters, one work with its
files (photos, a player, documents), files served with Range to those allowed and to nobody else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webfixtures import add_user, attachment_ids, csrf_of, login, populate, write_workbench_config

from intake.app import App
from intake.config import load
from intake.web.routes import make_asgi, make_site

PHOTOS, OFFICE = "photos@dl.example", "office@qhgh.example"


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[tuple[App, TestClient, dict[str, int]]]:
    config = write_workbench_config(tmp_path / "config.toml", db_url=db_url)
    add_user(config, PHOTOS, "--role", "host", "--collection", "photography")
    add_user(config, OFFICE, "--role", "province")
    app = App.build(load(config))
    ids = populate(app, tmp_path)
    try:
        with TestClient(make_asgi(make_site(app)), base_url="http://testserver") as client:
            yield app, client, ids
    finally:
        app.close()


def test_the_overview_shows_the_digests_figures_live(world: tuple[App, TestClient, dict[str, int]]) -> None:
    _, client, _ = world
    login(client, OFFICE)
    page = client.get("/").text
    row = re.search(r"网络正能量摄影作品征集.*?</tr>", page, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num[^"]*">([^<]+)</td>', row.group(0))
    assert cells[:3] == ["7", "6", "1"]  # received, accepted, rejected
    assert "0 / 6" in row.group(0)
    assert "线下活动（附件1 任务分配）" in page and "合计 3 / 40 场" in page
    units = client.get("/units").text
    assert "西宁市总工会" in units and "国网青海省电力公司工会" in units


def test_a_collection_lists_its_works_and_filters_them(world: tuple[App, TestClient, dict[str, int]]) -> None:
    _, client, ids = world
    login(client, PHOTOS)
    page = client.get("/collections/photography").text
    assert "共 7 封" in page and "《光影1》" in page and "《工地清晨》" in page
    assert "0</span> / 6 推荐" in page and "8月20日" in page
    rejected = client.get("/collections/photography", params={"status": "rejected"}).text
    assert "共 1 封" in rejected and "《工地清晨》" in rejected and "长边至少 1920 像素" in rejected
    by_unit = client.get("/collections/photography", params={"unit": "海南州总工会"}).text
    assert "共 1 封" in by_unit and "《光影2》" in by_unit
    assert "共 0 封" in client.get("/collections/photography", params={"until": "2019-01-01"}).text
    assert f'<img src="/thumbs/{attachment_ids(world[0], ids["photo1"])[0]}"' in page


def test_a_work_shows_its_photo_full_size_its_document_and_its_verdict(
    world: tuple[App, TestClient, dict[str, int]],
) -> None:
    app, client, ids = world
    login(client, PHOTOS)
    photo, doc = attachment_ids(app, ids["photo1"])
    page = client.get(f"/works/{ids['photo1']}").text
    assert f'<img src="/files/{photo}"' in page and "2000×1500" in page and "通过" in page
    assert f'href="/files/{doc}?download=1"' in page
    shown = client.get(f"/files/{photo}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["content-disposition"].startswith("inline;")
    document = client.get(f"/files/{doc}?download=1")
    assert document.headers["content-disposition"] == (
        "attachment; filename*=utf-8''%E4%BD%9C%E5%93%81%E8%AF%B4%E6%98%8E.docx"
    )
    assert document.headers["content-type"] == "application/octet-stream"
    thumb = client.get(f"/thumbs/{photo}")
    assert thumb.headers["content-type"] == "image/jpeg" and len(thumb.content) < 100_000
    rejected = client.get(f"/works/{ids['small']}").text
    assert "退回" in rejected and "800×600" in rejected and "改为通过" in rejected


def test_a_video_is_played_with_range_requests(world: tuple[App, TestClient, dict[str, int]]) -> None:
    app, client, ids = world
    login(client, OFFICE)
    (video,) = attachment_ids(app, ids["video"])
    page = client.get(f"/works/{ids['video']}").text
    assert f'<video controls preload="metadata" src="/files/{video}"' in page
    whole = client.get(f"/files/{video}")
    size = len(whole.content)
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"] == "video/mp4"
    part = client.get(f"/files/{video}", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-1999/{size}"
    assert part.content == whole.content[1000:2000]
    tail = client.get(f"/files/{video}", headers={"Range": f"bytes={size - 10}-"})
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    assert client.get(f"/thumbs/{video}").headers["content-type"] == "image/jpeg"


def test_a_host_is_refused_another_collections_works_and_files(
    world: tuple[App, TestClient, dict[str, int]],
) -> None:
    app, client, ids = world
    (video,) = attachment_ids(app, ids["video"])
    (report_photo,) = attachment_ids(app, ids["report"])
    assert client.get(f"/files/{video}", follow_redirects=False).status_code == 303  # nobody logged in
    login(client, PHOTOS)
    for url in (
        f"/works/{ids['video']}",
        f"/files/{video}",
        f"/thumbs/{video}",
        f"/works/{ids['report']}",
        f"/files/{report_photo}",
        "/collections/micro-video",
        "/collections/offline-activity",
        "/files/999999",
    ):
        assert client.get(url).status_code == 404, url


def test_a_host_overrules_on_the_page_and_sees_it_in_the_history(
    world: tuple[App, TestClient, dict[str, int]],
) -> None:
    _, client, ids = world
    login(client, PHOTOS)
    page = client.get(f"/works/{ids['small']}").text
    form = {"verdict": "accept", "reason": "原片已补寄，核对无误", "send": "1"}
    assert client.post(f"/works/{ids['small']}/decide", data=form).status_code == 403  # no CSRF token
    done = client.post(f"/works/{ids['small']}/decide", data={**form, "csrf": csrf_of(page)})
    assert done.status_code == 200
    assert "已改为“通过”，更正通知正在发给报送单位" in done.text
    assert "审核结果由“退回”改为“通过”（已通知报送单位）" in done.text and "理由：原片已补寄，核对无误" in done.text
    assert f"{PHOTOS}" in done.text
    other = client.post(f"/works/{ids['video']}/decide", data={**form, "csrf": csrf_of(page)})
    assert other.status_code == 404
