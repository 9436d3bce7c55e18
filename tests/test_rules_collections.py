"""The collection rules on real files: each kind's defaults from the notice, and the config's limits."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import replace
from pathlib import Path

import mediafactory as mf
import pytest

from campaign.notice import MailboxKind
from campaign.settings import DEFAULT_RULES, ConfigError, KindRules, Settings
from ingest.inspect import inspect_file
from ingest.rules.collections import aspect_text
from ingest.rules.content import review
from ingest.rules.durations import duration_text, range_text
from ingest.rules.platforms import named_platforms
from ingest.rules.views import FileView, Submission
from ingest.rules.works import group_works, part_marker
from intake.config import parse

GOOD_TEXT = "这是我们单位职工自己拍摄制作的作品，请查收。"


def view(path: Path, tmp_path: Path, name: str | None = None) -> FileView:
    """What the pipeline hands the rules for one attachment, made from its inspection."""
    name = name or path.name
    facts = inspect_file(path, filename=name, workdir=tmp_path / "work")
    return FileView(
        name=name,
        kind=facts.kind,
        label=facts.label,
        size=path.stat().st_size,
        valid=not facts.problems,
        is_description=facts.is_description,
        problems=facts.problems,
        mime=facts.mime,
        media=facts.media,
        image=facts.image,
        executable=facts.executable,
    )


def judge(
    kind: MailboxKind, *files: FileView, text: str = GOOD_TEXT, rules: KindRules | None = None
) -> tuple[list[str], list[str]]:
    found = review(Submission(kind=kind, text=text, html="", files=files, rules=rules))
    return [p.text for p in found.problems], found.notes


# -- formatting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(130, "2分10秒"), (130.4, "2分10秒"), (360.06, "6分钟"), (45, "45秒"), (299.6, "4分59秒"), (300.52, "5分钟")],
)
def test_durations_read_as_players_show_them(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_ranges_and_ratios() -> None:
    assert range_text(180, 300) == "要求 3—5分钟"
    assert range_text(None, 300) == "要求 5分钟以内"
    assert range_text(90, None) == "要求至少 1分30秒"
    assert range_text(150, 320) == "要求 2分30秒—5分20秒"
    assert aspect_text(9 / 16) == "9:16（竖屏）"
    assert aspect_text(4 / 3) == "4:3（横屏）"
    assert aspect_text(1.62) == "约 1.62:1（横屏）"


# -- micro-video ---------------------------------------------------------------------------------


def test_a_good_micro_video_is_accepted_with_one_short_subtitle_reminder(tmp_path: Path) -> None:
    video = view(mf.make_video(tmp_path, seconds=210, width=1280, height=720), tmp_path, "战疫路上的劳动者.mp4")

    found = review(Submission(kind=MailboxKind.MICRO_VIDEO, text=GOOD_TEXT, html="", files=[video]))

    assert found.problems == []
    assert found.notes == ["请确认视频的重点内容已配字幕（字幕压在画面里的无法自动核对）。"]
    assert found.remarks == ["视频“战疫路上的劳动者.mp4”没有单独的字幕轨道。"]


def test_a_subtitle_track_is_a_remark_for_the_hosts(tmp_path: Path) -> None:
    a = view(mf.make_video(tmp_path, seconds=200, subtitle="劳动最光荣", width=1280, height=720), tmp_path, "a.mp4")
    b = view(mf.make_video(tmp_path, seconds=200, width=1280, height=720), tmp_path, "b.mp4")

    found = review(Submission(kind=MailboxKind.MICRO_VIDEO, text=GOOD_TEXT, html="", files=[a, b]))

    assert found.notes == ["请确认视频的重点内容已配字幕（字幕压在画面里的无法自动核对）。"]  # once, not per video
    assert found.remarks == ["视频“a.mp4”含字幕轨道。", "视频“b.mp4”没有单独的字幕轨道。"]


@pytest.mark.parametrize(
    ("seconds", "reason"),
    [(130, "视频时长 2分10秒，要求 3—5分钟"), (330, "视频时长 5分30秒，要求 3—5分钟")],
)
def test_a_micro_video_outside_three_to_five_minutes_is_rejected(tmp_path: Path, seconds: int, reason: str) -> None:
    video = view(mf.make_video(tmp_path, seconds=seconds, width=1280, height=720), tmp_path)

    assert judge(MailboxKind.MICRO_VIDEO, video)[0] == [reason]


@pytest.mark.parametrize(
    ("size", "rotation", "reasons"),
    [
        ((720, 1280), None, ["画面比例 9:16（竖屏），要求 16:9（横屏）"]),
        ((1280, 720), 90, ["画面比例 9:16（竖屏），要求 16:9（横屏）"]),  # a landscape stream shown upright
        ((960, 720), None, ["画面比例 4:3（横屏），要求 16:9（横屏）"]),
        ((720, 1280), 90, []),  # a phone held upright, turned by its display matrix: shown 16:9
        ((1296, 720), None, []),  # 1.8: within the ±3 % tolerance
        ((640, 360), None, ["分辨率 640×360，要求至少 1280×720"]),
        ((360, 640), 90, ["分辨率 640×360，要求至少 1280×720"]),  # as displayed
    ],
)
def test_the_picture_shape_is_judged_as_displayed(
    tmp_path: Path, size: tuple[int, int], rotation: int | None, reasons: list[str]
) -> None:
    path = mf.make_video(tmp_path, seconds=180, width=size[0], height=size[1], rotation=rotation)

    problems, _ = judge(MailboxKind.MICRO_VIDEO, view(path, tmp_path))

    assert problems == reasons


def test_a_broken_or_fake_video_is_named_once(tmp_path: Path) -> None:
    good = mf.make_video(tmp_path, seconds=200, width=1280, height=720)
    cut = view(mf.truncated_copy(good, tmp_path, name="cut.mp4"), tmp_path)
    fake = view(mf.make_text(tmp_path, name="微视频.mp4"), tmp_path)

    assert judge(MailboxKind.MICRO_VIDEO, cut)[0] == ["视频文件不完整（被截断）"]
    assert judge(MailboxKind.MICRO_VIDEO, fake)[0] == ["文件“微视频.mp4”不是视频（实际为文本文件）"]


def test_no_video_at_all_is_rejected_unless_a_large_attachment_link_brings_it(tmp_path: Path) -> None:
    photo = view(mf.make_jpeg(tmp_path), tmp_path)

    assert judge(MailboxKind.MICRO_VIDEO, photo)[0] == ["邮件中没有视频作品文件"]
    found = review(Submission(kind=MailboxKind.MICRO_VIDEO, text=GOOD_TEXT, html="", files=[photo], large_links=1))
    assert found.problems == []
    assert found.notes == ["作品以超大附件链接发送，工作人员下载后将再核对作品要求。"]


def test_several_videos_are_named_in_the_reasons(tmp_path: Path) -> None:
    a = view(mf.make_video(tmp_path, name="a.mp4", seconds=200, width=1280, height=720), tmp_path)
    b = view(mf.make_video(tmp_path, name="b.mp4", seconds=100, width=1280, height=720), tmp_path)

    assert judge(MailboxKind.MICRO_VIDEO, a, b)[0] == ["视频“b.mp4”时长 1分40秒，要求 3—5分钟"]


# -- recitation, micro-film, micro-lesson, song ----------------------------------------------------


def test_recitation_suggests_three_to_eight_minutes_of_any_shape(tmp_path: Path) -> None:
    seven = view(mf.make_video(tmp_path, name="seven.mp4", seconds=420, width=320, height=240), tmp_path)
    nine = view(mf.make_video(tmp_path, name="nine.mp4", seconds=540, width=320, height=240), tmp_path)

    assert judge(MailboxKind.RECITATION, seven) == ([], [])
    # 时间以 3—8 分钟为宜: a guideline, so nine minutes is a reminder, not a rejection
    assert judge(MailboxKind.RECITATION, nine) == ([], ["视频时长 9分钟，通知建议 3—8分钟，请知悉。"])


def test_a_micro_film_has_no_length_limit_unless_configured(tmp_path: Path) -> None:
    film = view(mf.make_video(tmp_path, seconds=20, width=320, height=240), tmp_path)

    assert judge(MailboxKind.MICRO_FILM, film)[0] == []
    limited = replace(DEFAULT_RULES[MailboxKind.MICRO_FILM], min_seconds=60)
    assert judge(MailboxKind.MICRO_FILM, film, rules=limited)[0] == ["视频时长 20秒，要求至少 1分钟"]


def test_a_micro_lesson_is_at_most_five_minutes_and_clear(tmp_path: Path) -> None:
    lesson = view(mf.make_video(tmp_path, seconds=330, width=640, height=360), tmp_path)

    assert judge(MailboxKind.MICRO_LESSON, lesson)[0] == [
        "视频时长 5分30秒，要求 5分钟以内",
        "分辨率 640×360，要求至少 1280×720",
    ]


def test_a_song_is_audio_or_video_of_at_most_five_minutes(tmp_path: Path) -> None:
    four = view(mf.make_audio(tmp_path, name="小样.mp3", seconds=240), tmp_path)
    six = view(mf.make_audio(tmp_path, name="six.m4a", seconds=360), tmp_path)
    clip = view(mf.make_video(tmp_path, seconds=200, width=320, height=240), tmp_path)

    assert judge(MailboxKind.SONG, four)[0] == []
    assert judge(MailboxKind.SONG, clip)[0] == []
    assert judge(MailboxKind.SONG, six)[0] == ["录音时长 6分钟，要求 5分钟以内"]
    assert judge(MailboxKind.SONG, view(mf.make_jpeg(tmp_path), tmp_path))[0] == [
        "邮件中没有歌曲录音（音频或视频文件）"
    ]


# -- photography, offline activity ---------------------------------------------------------------


def test_photography_wants_large_real_pictures_and_records_exif(tmp_path: Path) -> None:
    taken = dt.datetime(2020, 6, 18, 9, 30)
    big = view(
        mf.make_jpeg(tmp_path, name="劳模.jpg", size=(1920, 1280), taken_at=taken, make="Canon", model="EOS 80D"),
        tmp_path,
    )
    small = view(mf.make_jpeg(tmp_path, name="小图.jpg", size=(800, 600)), tmp_path)
    elf = view(mf.make_elf(tmp_path, name="照片1.jpg"), tmp_path)

    found = review(Submission(kind=MailboxKind.PHOTOGRAPHY, text=GOOD_TEXT, html="", files=[big]))
    assert (found.problems, found.notes) == ([], [])  # camera facts are for the hosts, not the sender
    assert found.remarks == ["照片“劳模.jpg”：拍摄于2020年6月18日 9:30，相机 Canon EOS 80D。"]
    assert judge(MailboxKind.PHOTOGRAPHY, small)[0] == ["照片“小图.jpg”尺寸 800×600，要求长边至少 1920 像素"]
    assert judge(MailboxKind.PHOTOGRAPHY, big, elf)[0] == [
        "文件“照片1.jpg”不是图片（实际为可执行程序），出于安全原因不予接收"
    ]


def test_a_small_photo_beside_good_ones_is_set_aside_not_rejected(tmp_path: Path) -> None:
    good = [view(mf.make_jpeg(tmp_path, name=f"好{i}.jpg", size=(2400, 1600)), tmp_path) for i in (1, 2)]
    small = view(mf.make_jpeg(tmp_path, name="小图.jpg", size=(800, 600)), tmp_path)

    found = review(Submission(kind=MailboxKind.PHOTOGRAPHY, text=GOOD_TEXT, html="", files=[good[0], small, good[1]]))

    assert found.problems == []
    assert [(s.index, s.why) for s in found.set_aside] == [(1, "尺寸 800×600，要求长边至少 1920 像素")]
    assert found.notes == [
        "照片“小图.jpg”尺寸 800×600，要求长边至少 1920 像素，未登记为作品；如需报送，"
        "请发送相机或手机拍摄的原图（用“原图”或文件方式发送，不要发微信压缩后的图片）。"
    ]


def test_offline_photos_outside_the_campaign_are_a_warning_not_a_rejection(tmp_path: Path) -> None:
    old = view(mf.make_jpeg(tmp_path, name="旧照.jpg", taken_at=dt.datetime(2019, 12, 1, 8, 0)), tmp_path)
    new = view(mf.make_jpeg(tmp_path, name="新照.jpg", taken_at=dt.datetime(2020, 7, 1, 8, 0)), tmp_path)

    problems, notes = judge(MailboxKind.OFFLINE_ACTIVITY, old, new)

    assert problems == []
    assert notes == [
        "照片“旧照.jpg”的拍摄日期为2019年12月1日，不在活动期间（2020年5月1日至2020年8月31日）内，"
        "请确认是本次活动的照片。"
    ]


# -- service platforms ---------------------------------------------------------------------------


def test_a_service_platform_needs_a_description_and_links_or_screenshots(tmp_path: Path) -> None:
    body = "我们的“职工之家”微信小程序提供法律援助和困难帮扶，网址 https://zgzj.example.cn/app ，欢迎试用。"

    problems, notes = judge(MailboxKind.SERVICE_PLATFORM, text=body)
    assert problems == []
    assert notes == [
        "已记录平台名称：微信小程序“职工之家”。",
        "已记录正文中的平台链接（1 个）：https://zgzj.example.cn/app",
    ]

    shot = view(mf.make_png(tmp_path, name="截图.png"), tmp_path)
    assert judge(MailboxKind.SERVICE_PLATFORM, shot, text="平台介绍：职工服务小程序，提供在线维权。")[0] == []
    assert judge(MailboxKind.SERVICE_PLATFORM, text="见附件")[0] == [
        "邮件中没有平台的简要介绍（正文中除网址外少于 10 个字，也没有说明文档）",
        "邮件中没有写明平台的名称或链接，也没有平台截图",
    ]


# -- configuration -------------------------------------------------------------------------------


def _config(extra: str) -> str:
    return f"""
[store]
url = "sqlite:///x.db"
blob_dir = "blobs"
[smtp]
host = "localhost"
port = 25
security = "none"
sender = "a@example.org"
[[mailboxes]]
name = "v"
kind = "micro-video"
host = "localhost"
port = 143
security = "none"
username = "v@example.org"
password_env = "X"
[digest]
recipients = ["h@example.org"]
[[units]]
name = "西宁市总工会"
{extra}
"""


def _parse(text: str) -> Settings:
    return parse(tomllib.loads(text), path=Path("/tmp/config.toml"))


def test_rules_default_to_the_notice_and_can_be_overridden() -> None:
    settings = _parse(_config(""))
    assert settings.rules == DEFAULT_RULES

    settings = _parse(
        _config(
            """
[rules.micro-video]
max_seconds = 360
aspect = ""
min_width = 0
late = "reject"
[rules.photography]
photo_min_long_side = 1200
campaign_start = 2020-06-01
[rules.offline-activity]
picture_min_long_side = 0
"""
        )
    )
    video = settings.rules[MailboxKind.MICRO_VIDEO]
    assert (video.min_seconds, video.max_seconds, video.aspect, video.min_width, video.late) == (
        180,
        360,
        None,
        None,
        "reject",
    )
    assert video.require_mp4 is True
    assert (video.require_audio, video.duration_tolerance_seconds, video.silence_db) == (True, 0, -60.0)
    assert settings.rules[MailboxKind.SONG].require_audio is False  # a song may be sound alone
    tuned = _parse(
        _config("[rules.recitation]\nrequire_audio = false\nduration_tolerance_seconds = 5\nsilence_db = 0\n")
    ).rules[MailboxKind.RECITATION]
    assert (tuned.require_audio, tuned.duration_tolerance_seconds, tuned.silence_db) == (False, 5, None)
    photo = settings.rules[MailboxKind.PHOTOGRAPHY]
    assert (photo.photo_min_long_side, photo.campaign_start) == (1200, dt.date(2020, 6, 1))
    assert photo.picture_min_long_side == 300  # the default: logos and icons are no photos
    assert settings.rules[MailboxKind.OFFLINE_ACTIVITY].picture_min_long_side is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[rules.micro-video]\nmax_seconds = "5"', "rules.micro-video.max_seconds: expected an integer, got '5'"),
        ("[rules.micro-video]\nmax_seconds = -1", "rules.micro-video.max_seconds: must be at least 0, got -1"),
        (
            '[rules.micro-video]\naspect = "wide"',
            "rules.micro-video.aspect: expected a ratio like \"16:9\", got 'wide'",
        ),
        ('[rules.song]\nlate = "maybe"', "rules.song.late: must be one of accept, reject, got 'maybe'"),
        ("[rules.song]\nrequire_mp4 = 1", "rules.song.require_mp4: expected true or false, got 1"),
        ("[rules.song]\nmax_second = 1", "rules.song.max_second: unknown key"),
        ("[rules.songs]\nmax_seconds = 1", "rules.songs: unknown key"),
        ('[rules.photography]\ncampaign_end = "August"', "rules.photography.campaign_end: expected a date"),
        ("[rules.recitation]\nmin_seconds = 600", "rules.recitation.min_seconds: 600 is more than max_seconds 480"),
        ('[rules.recitation]\nrequire_audio = "yes"', "rules.recitation.require_audio: expected true or false"),
        (
            "[rules.micro-video]\nduration_tolerance_seconds = -2",
            "rules.micro-video.duration_tolerance_seconds: must be at least 0, got -2",
        ),
        ("[rules.song]\nsilence_db = 10", "rules.song.silence_db: must be 0 or below (dB below full scale), got 10"),
        ('[rules.song]\nsilence_db = "quiet"', "rules.song.silence_db: expected a number of dB like -60"),
    ],
)
def test_a_wrong_rule_names_its_key(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(_config(table))
    assert str(caught.value).startswith(message)


def test_a_micro_video_must_be_mp4(tmp_path: Path) -> None:
    path = mf.make_mov(tmp_path)

    problems, _ = judge(MailboxKind.MICRO_VIDEO, view(path, tmp_path))

    assert problems == ["视频没有声音（没有音频轨道）", "视频格式为 MOV，要求 MP4"]


# -- works in parts, named platforms -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("战疫（上）.mp4", ("战疫", 1)),
        ("战疫(下).mp4", ("战疫", 3)),
        ("上集.mp4", ("", 1)),
        ("匠心 下集.mov", ("匠心", 3)),
        ("第二部分.mp4", ("", 2)),
        ("微课 第3讲.mp4", ("微课", 3)),
        ("作品part1.mp4", ("作品", 1)),
        ("作品 Part 2.mp4", ("作品", 2)),
        ("作品（1/2）.mp4", ("作品", 1)),
        ("作品(2).mp4", ("作品", 2)),
        ("战疫路上的劳动者.mp4", None),
        ("2020年6月.mp4", None),
    ],
)
def test_part_markers_in_file_names(name: str, marker: tuple[str, int] | None) -> None:
    assert part_marker(name) == marker


def test_only_files_marked_as_different_parts_of_one_name_make_one_work(tmp_path: Path) -> None:
    path = mf.make_video(tmp_path, seconds=10, width=320, height=240)
    named = [view(path, tmp_path, name) for name in ("奋斗路上.mp4", "天下.mp4", "a（上）.mp4", "a（下）.mp4")]

    works = group_works(named)

    assert [[f.name for f in w.files] for w in works] == [
        ["奋斗路上.mp4"],
        ["天下.mp4"],
        ["a（上）.mp4", "a（下）.mp4"],
    ]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('欢迎关注微信公众号"果洛职工之家"。', ["微信公众号“果洛职工之家”"]),
        ("下载「青海工会」APP即可办理。", ["APP“青海工会”"]),
        ("“职工之家”小程序和《海东工会》网站", ["小程序“职工之家”", "网站“海东工会”"]),
        ("我们的平台很好用", []),
    ],
)
def test_named_platforms(text: str, names: list[str]) -> None:
    assert named_platforms(text) == names


def test_a_song_may_be_sound_in_an_mp4_and_silence_is_a_remark(tmp_path: Path) -> None:
    sung = view(mf.make_audio(tmp_path, name="劳动者之歌.mp4", seconds=200, tone=True), tmp_path)
    mute = view(mf.make_audio(tmp_path, name="小样.m4a", seconds=200), tmp_path)

    found = review(Submission(kind=MailboxKind.SONG, text=GOOD_TEXT, html="", files=[sung]))
    silent = review(Submission(kind=MailboxKind.SONG, text=GOOD_TEXT, html="", files=[mute]))

    assert (sung.label, sung.problems, found.problems, found.remarks) == ("M4A 音频", (), [], [])
    assert silent.problems == []
    assert silent.remarks == ["录音“小样.m4a”全程几乎无声（最大音量 -91 dB），请核对声音。"]
