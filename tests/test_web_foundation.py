"""The workbench's foundation as a host meets it: accounts made on the command line, the login form,
its cookie and throttle, CSRF on every form, and a host kept to its own collections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webfixtures import PASSWORD, add_user, csrf_of, login, run, write_workbench_config

from campaign.settings import ConfigError
from intake.accounts import Account
from intake.app import App
from intake.config import load
from intake.web import permissions
from intake.web.routes import make_asgi, make_site
from store.audit import history, user_target
from store.enums import Role

PHOTOS = "photos@xining.example"


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    return write_workbench_config(tmp_path / "config.toml", db_url=db_url, extra='[web]\nlisten = "127.0.0.1:8181"\n')


@pytest.fixture
def client(config: Path) -> Iterator[TestClient]:
    app = App.build(load(config))
    try:
        with TestClient(make_asgi(make_site(app)), base_url="http://testserver") as c:
            yield c
    finally:
        app.close()


def test_users_are_added_listed_and_disabled_on_the_command_line(config: Path) -> None:
    # Given / When
    add_user(config, PHOTOS, "--role", "host", "--collection", "photography")
    add_user(config, "office@qhgh.example", "--role", "province")
    listed = run(config, "users", "list")
    # Then
    assert "photos@xining.example  host      摄影" in listed.output
    assert "office@qhgh.example    province  全部" in listed.output
    refused = run(
        config, "users", "add", "x@example.org", "--role", "host", "--password-stdin", input="long enough pw\n"
    )
    assert refused.exit_code == 1 and "at least one --collection" in refused.output
    short = run(config, "users", "add", "y@example.org", "--role", "province", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    assert run(config, "users", "disable", PHOTOS).output.strip() == f"disabled {PHOTOS}"
    assert "disabled" in run(config, "users", "list").output
    app = App.build(load(config))
    with app.sessions() as session:
        summaries = [e.summary for e in history(session, user_target(PHOTOS))]
    app.close()
    assert summaries == ["新增账号 photos@xining.example：承办单位（摄影）", "停用账号"]


def test_web_settings_are_read_once(config: Path, tmp_path: Path) -> None:
    settings = load(config)
    assert (settings.web.host, settings.web.port) == ("127.0.0.1", 8181)
    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text(encoding="utf-8").replace('"127.0.0.1:8181"', '"8181"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r'web.listen: expected "HOST:PORT"'):
        load(bad)


def test_login_sets_a_signed_httponly_cookie_and_shows_the_overview(config: Path, client: TestClient) -> None:
    add_user(config, PHOTOS, "--role", "host", "--collection", "photography")
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    page = client.get("/login")
    assert "登录作品征集工作台" in page.text and 'name="email"' in page.text and 'name="password"' in page.text
    response = client.post(
        "/login",
        data={"email": PHOTOS.upper(), "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=43200" in cookie
    overview = client.get("/")
    assert "网络正能量摄影作品征集" in overview.text and "网络正能量微视频征集" not in overview.text
    assert "8月20日" in overview.text  # the deadline


def test_a_wrong_password_is_refused_and_repeated_failures_wait(config: Path, client: TestClient) -> None:
    add_user(config, PHOTOS, "--role", "host", "--collection", "photography")
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        wrong = client.post("/login", data={"email": PHOTOS, "password": "not it at all", "csrf": token})
        assert wrong.status_code == 401 and "邮箱或密码不正确" in wrong.text
    blocked = client.post("/login", data={"email": PHOTOS, "password": PASSWORD, "csrf": token})
    assert blocked.status_code == 429 and "登录失败次数过多，请 15 分钟后再试" in blocked.text


def test_a_post_without_its_csrf_token_is_refused(config: Path, client: TestClient) -> None:
    add_user(config, PHOTOS, "--role", "host", "--collection", "photography")
    refused = client.post("/login", data={"email": PHOTOS, "password": PASSWORD})
    assert refused.status_code == 403 and "安全令牌" in refused.text
    login(client, PHOTOS)
    assert client.post("/logout", data={"csrf": "0" * 64}).status_code == 403
    assert client.get("/").status_code == 200  # still logged in


def test_a_host_is_kept_to_its_collections_and_a_disabled_account_is_logged_out(
    config: Path, client: TestClient
) -> None:
    add_user(config, PHOTOS, "--role", "host", "--collection", "photography")
    login(client, PHOTOS)
    assert client.get("/collections/photography").status_code == 200
    assert client.get("/collections/micro-video").status_code == 404
    assert client.get("/units").status_code == 404
    run(config, "users", "disable", PHOTOS)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_permissions() -> None:
    host = Account(id=1, email="h@x.cn", role=Role.HOST, collections=frozenset({permissions.MailboxKind.SONG}))
    office = Account(id=2, email="p@x.cn", role=Role.PROVINCE, collections=frozenset())
    kinds = list(permissions.MailboxKind)
    assert permissions.visible_kinds(host, kinds) == (permissions.MailboxKind.SONG,)
    assert len(permissions.visible_kinds(office, kinds)) == 8
    assert not permissions.can_see_units(host) and permissions.can_see_units(office)
    assert permissions.can_select(host, permissions.MailboxKind.SONG)
    assert not permissions.can_select(office, permissions.MailboxKind.OFFLINE_ACTIVITY)
    assert not permissions.can_recommend(host) and permissions.can_recommend(office)
