"""Guidelines are not rules: per limit and per collection kind, a work outside it is rejected or reminded.

Real media made on the spot, judged by the collection rules with the defaults read from the notice
and with `[rules.<kind>.severity]` tables parsed from TOML as the entry point parses them.
"""

from __future__ import annotations

from pathlib import Path

import mediafactory as mf
import pytest
from test_rules_collections import GOOD_TEXT, _config, _parse, view

from campaign.notice import MailboxKind
from campaign.settings import DEFAULT_RULES, LIMIT_NAMES, ConfigError, KindRules, Severities, Severity
from ingest.rules.collections import Review
from ingest.rules.content import review
from ingest.rules.views import FileView, Submission


def _rules(kind: MailboxKind, severity: str = "") -> KindRules:
    """The kind's rules as the configuration makes them, with a `[rules.<kind>.severity]` table."""
    table = f"[rules.{kind.value}.severity]\n{severity}\n" if severity else ""
    return _parse(_config(table)).rules[kind]


def _review(kind: MailboxKind, *files: FileView, rules: KindRules | None = None) -> Review:
    return review(Submission(kind=kind, text=GOOD_TEXT, html="", files=files, rules=rules))


def test_the_defaults_follow_the_wording_of_the_notice() -> None:
    # 诵读: 时间以 3—8 分钟为宜 is the only guideline among the notice's limits; the rest are rules
    reminded = {
        (kind, limit)
        for kind, rules in DEFAULT_RULES.items()
        for limit in LIMIT_NAMES
        if getattr(rules.severity, limit) is Severity.REMIND
    }
    assert reminded == {(MailboxKind.RECITATION, "duration")}
    assert _parse(_config("")).rules[MailboxKind.RECITATION].severity == Severities(duration=Severity.REMIND)


# -- recitation ----------------------------------------------------------------------------------


def test_a_recitation_outside_three_to_eight_minutes_is_accepted_with_a_note_and_a_remark(tmp_path: Path) -> None:
    long = view(mf.make_video(tmp_path, name="长.mp4", seconds=552, width=320, height=240), tmp_path)
    short = view(mf.make_video(tmp_path, name="短.mp4", seconds=150, width=320, height=240), tmp_path)

    found = _review(MailboxKind.RECITATION, long)
    brief = _review(MailboxKind.RECITATION, short)

    assert found.problems == [] and brief.problems == []
    assert found.notes == ["视频时长 9分12秒，通知建议 3—8分钟，请知悉。"]
    assert found.remarks == ["视频时长 9分12秒，通知建议 3—8分钟（按配置仅提醒，已受理）。"]
    assert brief.notes == ["视频时长 2分30秒，通知建议 3—8分钟，请知悉。"]


def test_a_recitation_length_can_be_made_a_rule_again(tmp_path: Path) -> None:
    long = view(mf.make_video(tmp_path, name="长.mp4", seconds=552, width=320, height=240), tmp_path)

    found = _review(MailboxKind.RECITATION, long, rules=_rules(MailboxKind.RECITATION, 'duration = "reject"'))

    assert [p.text for p in found.problems] == ["视频时长 9分12秒，要求 3—8分钟"]
    assert found.notes == [] and found.remarks == []


def test_a_recitation_must_still_be_a_video_with_sound(tmp_path: Path) -> None:
    mute = view(mf.make_video(tmp_path, name="无声.mp4", seconds=552, width=320, height=240, audio=False), tmp_path)

    found = _review(MailboxKind.RECITATION, mute)

    # 所有作品制成短视频 is a rule: no sound rejects, while the length beside it only reminds
    assert [p.text for p in found.problems] == ["视频没有声音（没有音频轨道）"]
    assert found.notes == ["视频时长 9分12秒，通知建议 3—8分钟，请知悉。"]


# -- micro-video ---------------------------------------------------------------------------------


def test_a_micro_video_keeps_its_rules_and_each_can_be_a_reminder(tmp_path: Path) -> None:
    square = view(mf.make_video(tmp_path, name="方.mp4", seconds=400, width=960, height=720), tmp_path)

    strict = _review(MailboxKind.MICRO_VIDEO, square)
    lenient = _review(
        MailboxKind.MICRO_VIDEO,
        square,
        rules=_rules(MailboxKind.MICRO_VIDEO, 'duration = "remind"\naspect = "remind"'),
    )

    assert [p.text for p in strict.problems] == [
        "视频时长 6分40秒，要求 3—5分钟",
        "画面比例 4:3（横屏），要求 16:9（横屏）",
    ]
    assert lenient.problems == []
    assert lenient.notes[1:] == [
        "视频时长 6分40秒，通知建议 3—5分钟，请知悉。",
        "画面比例 4:3（横屏），建议 16:9（横屏），请知悉。",
    ]
    assert "画面比例 4:3（横屏），建议 16:9（横屏）（按配置仅提醒，已受理）。" in lenient.remarks


def test_a_mov_micro_video_may_be_reminded_of_mp4(tmp_path: Path) -> None:
    mov = view(mf.make_mov(tmp_path, seconds=200), tmp_path)

    found = _review(MailboxKind.MICRO_VIDEO, mov, rules=_rules(MailboxKind.MICRO_VIDEO, 'format = "remind"'))

    assert [p.text for p in found.problems] == ["视频没有声音（没有音频轨道）"]
    assert "视频格式为 MOV，建议 MP4，请知悉。" in found.notes


# -- song, micro-lesson, micro-film, photography ---------------------------------------------------


def test_a_song_over_five_minutes_is_rejected_unless_configured_to_remind(tmp_path: Path) -> None:
    song = view(mf.make_audio(tmp_path, name="劳动者之歌.mp3", seconds=330, tone=True), tmp_path)

    assert [p.text for p in _review(MailboxKind.SONG, song).problems] == ["录音时长 5分30秒，要求 5分钟以内"]
    found = _review(MailboxKind.SONG, song, rules=_rules(MailboxKind.SONG, 'duration = "remind"'))
    assert (found.problems, found.notes) == ([], ["录音时长 5分30秒，通知建议 5分钟以内，请知悉。"])


def test_a_micro_lesson_below_720p_may_be_reminded(tmp_path: Path) -> None:
    lesson = view(mf.make_video(tmp_path, name="微课.mp4", seconds=200, width=640, height=360), tmp_path)

    assert [p.text for p in _review(MailboxKind.MICRO_LESSON, lesson).problems] == ["分辨率 640×360，要求至少 1280×720"]
    found = _review(MailboxKind.MICRO_LESSON, lesson, rules=_rules(MailboxKind.MICRO_LESSON, 'resolution = "remind"'))
    assert (found.problems, found.notes) == ([], ["分辨率 640×360，建议至少 1280×720，请知悉。"])


def test_a_silent_micro_film_may_be_reminded(tmp_path: Path) -> None:
    film = view(mf.make_video(tmp_path, name="匠心.mp4", seconds=60, width=320, height=240, audio=False), tmp_path)

    assert [p.text for p in _review(MailboxKind.MICRO_FILM, film).problems] == ["视频没有声音（没有音频轨道）"]
    found = _review(MailboxKind.MICRO_FILM, film, rules=_rules(MailboxKind.MICRO_FILM, 'audio = "remind"'))
    assert (found.problems, found.notes) == ([], ["视频没有声音（没有音频轨道），请知悉。"])


def test_small_photos_may_be_registered_with_a_reminder(tmp_path: Path) -> None:
    small = view(mf.make_jpeg(tmp_path, name="小图.jpg", size=(800, 600)), tmp_path)
    large = view(mf.make_jpeg(tmp_path, name="一线.jpg", size=(2400, 1600)), tmp_path)

    strict = _review(MailboxKind.PHOTOGRAPHY, large, small)
    lenient = _review(
        MailboxKind.PHOTOGRAPHY, large, small, rules=_rules(MailboxKind.PHOTOGRAPHY, 'photo_size = "remind"')
    )

    assert [s.index for s in strict.set_aside] == [1]
    assert (lenient.problems, lenient.set_aside) == ([], [])
    assert lenient.notes == ["照片“小图.jpg”尺寸 800×600，建议长边至少 1920 像素，请知悉。"]


def test_kinds_without_measured_limits_take_a_severity_table_too() -> None:
    for kind in (MailboxKind.OFFLINE_ACTIVITY, MailboxKind.SERVICE_PLATFORM):
        assert _rules(kind, 'duration = "remind"').severity.duration is Severity.REMIND


# -- the configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[rules.recitation.severity]\nduration = "warn"',
            "rules.recitation.severity.duration: must be one of reject, remind, got 'warn'",
        ),
        ('[rules.recitation.severity]\nlength = "remind"', "rules.recitation.severity.length: unknown key"),
        ("[rules.recitation]\nseverity = 1", "rules.recitation.severity: expected a table"),
        ("[rules.song.severity]\nduration = true", "rules.song.severity.duration: expected a string, got True"),
    ],
)
def test_a_wrong_severity_names_its_key(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(_config(table))
    assert str(caught.value).startswith(message)
