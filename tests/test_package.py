"""The package a collection hands upward: a folder per work named 序号_单位_作品名称 with its original
files, and Annex 2's list as an xlsx; from the command line and from the workbench."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient
from webfixtures import PHOTO_UNITS, add_user, login, populate, run, write_workbench_config

from ingest.selection import choose
from intake.app import App
from intake.config import load
from intake.web.routes import make_asgi, make_site
from report.package import windows_name
from store.enums import SelectionStage

World = tuple[Path, App, dict[str, int]]


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    config = write_workbench_config(tmp_path / "config.toml", db_url=db_url)
    app = App.build(load(config))
    ids = populate(app, tmp_path)
    for i in range(1, 7):
        choose(
            sessions=app.sessions,
            settings=app.settings,
            message_id=ids[f"photo{i}"],
            stage=SelectionStage.SELECTED,
            comment=f"=构图{i}" if i == 2 else f"构图好{i}",
            actor="photos@dl.example",
        )
    try:
        yield config, app, ids
    finally:
        app.close()


def _rows(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]


def test_a_collections_package_has_a_folder_per_work_and_annex_2(world: World, tmp_path: Path) -> None:
    config, _, _ = world
    out = tmp_path / "摄影.zip"
    result = run(config, "package", "photography", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "6 works, 7 files" in result.output
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert names[0] == "附件2_报送作品表.xlsx"
        assert "1_西宁市总工会_光影1/光影1.jpg" in names and "1_西宁市总工会_光影1/作品说明.docx" in names
        assert "6_国网青海省电力公司工会_光影6/光影6.jpg" in names
        assert zf.read("1_西宁市总工会_光影1/光影1.jpg") == (tmp_path / "光影1.jpg").read_bytes()
        rows = _rows(zf.read("附件2_报送作品表.xlsx"))
    assert rows[0] == ["序号", "单位", "作品名称", "类别", "时长或尺寸", "收到日期", "初评意见"]
    assert rows[1] == [1, "西宁市总工会", "光影1", "摄影", "2000×1500", "2020年6月18日", "构图好1"]
    assert rows[2][6] == "=构图2"  # text, never a formula
    assert [r[1] for r in rows[1:]] == list(PHOTO_UNITS)


def test_the_provinces_package_has_a_folder_per_category(world: World, tmp_path: Path) -> None:
    config, app, ids = world
    choose(
        sessions=app.sessions,
        settings=app.settings,
        message_id=ids["photo3"],
        stage=SelectionStage.RECOMMENDED,
        comment=None,
        actor="office@qhgh.example",
    )
    out = tmp_path / "province.zip"
    assert run(config, "package", "province", "--out", str(out)).exit_code == 0
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["摄影/1_黄南州总工会_光影3/光影3.jpg", "附件2_报送作品表.xlsx"]
        assert _rows(zf.read("附件2_报送作品表.xlsx"))[1][:4] == [1, "黄南州总工会", "光影3", "摄影"]


def test_the_workbench_downloads_the_package_for_those_allowed(world: World) -> None:
    config, app, _ = world
    add_user(config, "photos@dl.example", "--role", "host", "--collection", "photography")
    with TestClient(make_asgi(make_site(app)), base_url="http://testserver") as client:
        login(client, "photos@dl.example")
        response = client.get("/collections/photography/package.zip")
        assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
        assert response.headers["content-disposition"].startswith("attachment; filename*=utf-8''%E6%91%84%E5%BD%B1")
        with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
            assert len(zf.namelist()) == 8
        assert client.get("/collections/micro-video/package.zip").status_code == 404
        assert client.get("/province/package.zip").status_code == 404
    assert list(app.blobs.tmp.glob("package-*")) == []  # the temporary file is gone once sent


def test_the_workbench_offers_no_empty_package(world: World) -> None:
    config, app, _ = world
    add_user(config, "office@dl.example", "--role", "province")
    with TestClient(make_asgi(make_site(app)), base_url="http://testserver") as client:
        login(client, "office@dl.example")
        # nothing is recommended by the province yet: the page says so instead of an empty zip
        response = client.get("/province/package.zip")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        assert "还没有标为“省总推荐”的作品，暂无可下载的作品包" in response.text


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("CON", "_CON"),
        ("aux.txt", "_aux.txt"),
        ('a<b>:c"d/e\\f|g?h*i', "a_b__c_d_e_f_g_h_i"),
        ("作品. ", "作品"),
        ("\u202e视频\u200b.mp4", "视频.mp4"),
        ("...", "未命名"),
        ("长" * 100 + ".mp4", "长" * 76 + ".mp4"),
    ],
)
def test_names_are_made_safe_for_windows(name: str, safe: str) -> None:
    assert windows_name(name) == safe


def test_nothing_selected_writes_no_package_and_says_how_to_select(world: World, tmp_path: Path) -> None:
    config, _, _ = world
    out = tmp_path / "province.zip"
    result = run(config, "package", "province", "--out", str(out))
    assert result.exit_code == 1 and not out.exists() and list(tmp_path.glob(".province.zip*")) == []
    assert result.output == (
        "Error: nothing to package: no work of the province is at recommended (省总推荐) yet; "
        "mark works 省总推荐 in the workbench (/province), or choose another stage with --stage\n"
    )
    out = tmp_path / "video.zip"
    result = run(config, "package", "micro-video", "--out", str(out))
    assert result.exit_code == 1 and not out.exists()
    assert (
        "no work of micro-video is at selected (推荐) yet; mark works 推荐 in the workbench (/collections/micro-video)"
        in (result.output)
    )
    # the photographs selected are there
    assert run(config, "package", "photography", "--out", str(out)).exit_code == 0 and out.exists()
