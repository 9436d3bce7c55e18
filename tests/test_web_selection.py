"""The selection as the hosts make it: 初选 and 推荐 in one click each from the list, a comment on the
work's page, the count against the minimum of six, and the province's recommendation per category."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webfixtures import add_user, csrf_of, login, populate, write_workbench_config

from intake.app import App
from intake.config import load
from intake.web.routes import make_asgi, make_site
from store.audit import history, message_target

PHOTOS, OFFICE = "photos@dl.example", "office@qhgh.example"
World = tuple[App, TestClient, dict[str, int], Path]


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    config = write_workbench_config(tmp_path / "config.toml", db_url=db_url)
    add_user(config, PHOTOS, "--role", "host", "--collection", "photography")
    add_user(config, OFFICE, "--role", "province")
    app = App.build(load(config))
    ids = populate(app, tmp_path)
    try:
        with TestClient(make_asgi(make_site(app)), base_url="http://testserver") as client:
            yield app, client, ids, config
    finally:
        app.close()


def _click(client: TestClient, page: str, message_id: int, stage: str, **extra: str) -> str:
    response = client.post(
        f"/works/{message_id}/select", data={"csrf": csrf_of(page), "stage": stage, **extra}, follow_redirects=True
    )
    assert response.status_code == 200, response.text
    return response.text


def test_six_works_shortlisted_and_selected_meet_the_minimum(world: World) -> None:
    app, client, ids, _ = world
    login(client, PHOTOS)
    page = client.get("/collections/photography").text
    assert "0</span> / 6 推荐" in page
    for i in range(1, 7):
        page = _click(client, page, ids[f"photo{i}"], "shortlisted", back="list")
    assert re.search(r'<span class="big">6</span> 初选', page)
    for i in range(1, 7):
        page = _click(client, page, ids[f"photo{i}"], "selected", back="list")
    assert '<div class="ok"><span class="big">6</span> / 6 推荐' in page
    assert "共 6 封" in client.get("/collections/photography", params={"stage": "selected"}).text
    work = client.get(f"/works/{ids['photo1']}").text
    done = _click(client, work, ids["photo1"], "selected", comment="主题鲜明，光影层次好")
    assert "主题鲜明，光影层次好" in done
    with app.sessions() as session:
        assert [e.summary for e in history(session, message_target(ids["photo1"]))] == [
            "遴选：未遴选 → 初选",
            "遴选：初选 → 推荐",
            "修改遴选评语",
        ]
    assert "6 / 6" in client.get("/").text


def test_only_the_province_recommends_and_only_accepted_works_are_selected(world: World) -> None:
    _, client, ids, _ = world
    login(client, PHOTOS)
    page = client.get(f"/works/{ids['photo1']}").text
    assert "省总推荐</button>" not in page
    refused = client.post(f"/works/{ids['photo1']}/select", data={"csrf": csrf_of(page), "stage": "recommended"})
    assert refused.status_code == 403
    small = _click(client, page, ids["small"], "shortlisted")
    assert "未遴选：只有审核通过的作品可以遴选（如需要，请先改判为通过）" in small
    _click(client, page, ids["photo1"], "selected")
    client.post("/logout", data={"csrf": csrf_of(page)})
    login(client, OFFICE)
    province = client.get("/province").text
    assert "网络正能量摄影作品征集" in province and "《光影1》" in province
    province = _click(client, province, ids["photo1"], "recommended", back="province")
    assert "撤销省总推荐" in province and "省总推荐 1 件" in province
    report = client.post(f"/works/{ids['report']}/select", data={"csrf": csrf_of(province), "stage": "shortlisted"})
    assert report.status_code == 403  # a report is no work
