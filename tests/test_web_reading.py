"""What a host reads on the workbench's pages beyond the works: a unit's letter back to our reply
(the digest sends the hosts to read it), a reply held by the caps, the collection named in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from webfixtures import add_user, login, populate, write_workbench_config

from intake.app import App
from intake.config import load
from intake.web.routes import make_asgi, make_site
from store.enums import MessageStatus, ReplyStatus
from store.models import Message, Reply

OFFICE = "office@qhgh.example"


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[tuple[App, TestClient, dict[str, int]]]:
    config = write_workbench_config(tmp_path / "config.toml", db_url=db_url)
    add_user(config, OFFICE, "--role", "province")
    app = App.build(load(config))
    ids = populate(app, tmp_path)
    try:
        with TestClient(make_asgi(make_site(app)), base_url="http://testserver") as client:
            yield app, client, ids
    finally:
        app.close()


def _reply_of(app: App, message_id: int) -> Reply:
    with app.sessions() as session:
        return session.scalars(select(Reply).where(Reply.message_id == message_id)).one()


def test_a_units_letter_back_is_listed_and_readable(
    world: tuple[App, TestClient, dict[str, int]], tmp_path: Path
) -> None:
    # Given 西宁市总工会 answers the acknowledgement of its report with a question, and nothing new
    app, client, ids = world
    ours = _reply_of(app, ids["report"])
    letter = EmailMessage()
    letter["From"] = "xnzgh@163.com"
    letter["To"] = "works@example.org"
    letter["Subject"] = "回复：西宁市总工会线下活动汇总（已收到）"
    letter["Message-ID"] = make_msgid(domain="163.com")
    letter["In-Reply-To"] = ours.reply_message_id
    letter.set_content("收到，谢谢！请问活动照片是否需要另寄原图？")
    path = tmp_path / "letter.eml"
    path.write_bytes(letter.as_bytes())
    letter_id, _ = app.import_file(mailbox="reports", path=path)
    assert letter_id is not None
    with app.sessions() as session:
        stored = session.get(Message, letter_id)
        assert stored is not None and stored.status is MessageStatus.CONVERSATION
    login(client, OFFICE)
    # When the host opens the reports' list
    page = client.get("/collections/offline-activity")
    # Then the letter is there, marked 来信, with the unit's own words, and its page opens
    assert page.status_code == 200
    assert "<title>线下活动汇总 · 作品征集工作台</title>" in page.text
    assert '<option value="conversation" >来信</option>' in page.text
    card = page.text.split(f'id="w{letter_id}"')[1].split("</li>")[0]
    assert "来信</span>" in card and "来信：收到，谢谢！请问活动照片是否需要另寄原图？" in card
    only = client.get("/collections/offline-activity", params={"status": "conversation"}).text
    assert "共 1 封" in only
    work = client.get(f"/works/{letter_id}")
    assert work.status_code == 200 and "来信：收到，谢谢！请问活动照片是否需要另寄原图？" in work.text
    assert "改判" not in work.text  # a letter is no submission: nothing to overrule


def test_a_work_whose_reply_is_held_by_the_caps_says_so(world: tuple[App, TestClient, dict[str, int]]) -> None:
    app, client, ids = world
    with app.sessions.begin() as session:
        reply = session.scalars(select(Reply).where(Reply.message_id == ids["small"])).one()
        reply.status = ReplyStatus.HELD
    login(client, OFFICE)
    page = client.get(f"/works/{ids['small']}")
    assert page.status_code == 200
    assert "退回通知：" in page.text and "（暂缓发送：自动回复已达发送上限，额度恢复后自动发出）" in page.text


def test_a_work_sent_as_a_share_shows_where_to_download_it(
    world: tuple[App, TestClient, dict[str, int]], tmp_path: Path
) -> None:
    # Given a micro-video sent as a Baidu share with its code, no file attached
    app, client, _ = world
    share = "https://pan.baidu.com/s/1AbCdEfGhIjK"
    mail = EmailMessage()
    mail["From"] = "hnz@126.com"
    mail["To"] = "works@example.org"
    mail["Subject"] = "海南州总工会《我们的家园》"
    mail["Message-ID"] = make_msgid(domain="126.com")
    mail.set_content(
        "海南州总工会报送微视频作品《我们的家园》。\n"
        f"通过百度网盘分享的文件：我们的家园.mp4\n链接: {share} 提取码: x7k2\n"
    )
    path = tmp_path / "share.eml"
    path.write_bytes(mail.as_bytes())
    work_id, _ = app.import_file(mailbox="videos", path=path)
    login(client, OFFICE)
    # When the host opens it
    page = client.get(f"/works/{work_id}").text
    # Then the page says there is no file but a link, with its code, to open
    assert "这封邮件没有附件，作品以下载链接发送。" in page
    assert "百度网盘：我们的家园.mp4，提取码 x7k2" in page
    assert f'<a href="{share}" target="_blank" rel="noopener noreferrer nofollow">{share}</a>' in page


def test_without_collection_mailboxes_the_pages_say_so_not_that_the_account_lacks_rights(
    tmp_path: Path, db_url: str
) -> None:
    # Given a configuration that receives only the offline-activity reports (as the demo's)
    config = write_workbench_config(tmp_path / "config.toml", db_url=db_url)
    text = config.read_text(encoding="utf-8")
    for name in ("photos", "videos"):
        start = text.index(f'[[mailboxes]]\nname = "{name}"')
        text = text[:start] + text[text.index("deadline = 2020-08-20\n", start) + len("deadline = 2020-08-20\n") :]
    config.write_text(text, encoding="utf-8")
    add_user(config, OFFICE, "--role", "province")
    app = App.build(load(config))
    try:
        with TestClient(make_asgi(make_site(app)), base_url="http://testserver") as client:
            login(client, OFFICE)
            overview = client.get("/").text
            province = client.get("/province").text
    finally:
        app.close()
    # Then the province, who sees everything, is told why no collection is listed
    assert "尚未配置征集作品的收件邮箱，请联系管理员。" in overview and "您的账号没有可查看的征集项目" not in overview
    assert "尚未配置征集作品的收件邮箱，请联系管理员。" in province
