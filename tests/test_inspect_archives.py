"""Archives: member names as Chinese senders' tools write them, limits, bombs, links, passwords, nesting."""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import zipfile
from pathlib import Path

import mediafactory as mf
import pytest
import rarfile

from ingest.inspect import FileFacts, InspectLimits, MissingToolError, inspect_file
from ingest.inspect.archives import Budget, Entry, Extraction, LimitExceeded, copy_member
from store.enums import AttachmentKind

PASSWORD = "压缩包有密码，无法打开"
DAMAGED = "压缩包已损坏，无法打开"


def _inspect(path: Path, work: Path, name: str | None = None, **limits: int) -> FileFacts:
    return inspect_file(path, filename=name or path.name, limits=InspectLimits(**limits), workdir=work)


def _files(work: Path) -> list[str]:
    return sorted(p.name for p in work.iterdir()) if work.exists() else []


# --- zip: names --------------------------------------------------------------------------------


def test_zip_member_names_are_decoded_per_entry(tmp_path: Path) -> None:
    # Given one zip with a name from Chinese Windows (GBK, no flag), one from old macOS tools
    # (UTF-8, no flag) and one from a current tool (UTF-8 with the flag)
    path = mf.make_zip(
        tmp_path,
        entries=[
            mf.ZipEntry(raw_name="活动照片一.txt".encode("gbk"), data="一".encode()),
            mf.ZipEntry(raw_name="喆堃镕说明.txt".encode("gbk"), data="二".encode()),
            mf.ZipEntry(raw_name="苹果电脑.txt".encode(), data="三".encode()),
            mf.ZipEntry(raw_name="带旗标.txt".encode(), data="四".encode(), utf8_flag=True),
        ],
    )

    facts = _inspect(path, tmp_path / "work", "作品.zip")

    assert (facts.kind, facts.label, facts.problems) == (AttachmentKind.ARCHIVE, "ZIP 压缩包", ())
    assert [m.name for m in facts.members] == ["活动照片一.txt", "喆堃镕说明.txt", "苹果电脑.txt", "带旗标.txt"]


def test_zip_unicode_path_extra_field_wins_over_the_legacy_name(tmp_path: Path) -> None:
    legacy = "照片.txt".encode("gbk")
    path = mf.make_zip(
        tmp_path,
        entries=[
            mf.ZipEntry(raw_name=legacy, data=b"x" * 40, extra=mf.unicode_path_extra(legacy, "照片（正式版）.txt"))
        ],
    )

    facts = _inspect(path, tmp_path / "work")

    assert [m.name for m in facts.members] == ["照片（正式版）.txt"]


def test_members_are_extracted_under_generated_names_and_inspected(tmp_path: Path) -> None:
    # Given a zip with a photo, a description and an attempt to climb out of the folder
    photo = mf.make_jpeg(tmp_path, size=(320, 240)).read_bytes()
    path = mf.make_simple_zip(
        tmp_path,
        files={"照片/合影.jpg": photo, "说明.txt": "活动说明".encode(), "../../逃逸.txt": b"outside?"},
    )
    work = tmp_path / "work"

    facts = _inspect(path, work)

    # Then each member is a file named by us inside the workdir, never by the archive
    assert _files(work) == ["member-0001", "member-0002", "member-0003"]
    assert not (tmp_path / "逃逸.txt").exists()
    assert not (tmp_path.parent / "逃逸.txt").exists()
    by_name = {m.name: m for m in facts.members}
    assert list(by_name) == ["照片/合影.jpg", "说明.txt", "../../逃逸.txt"]
    jpeg = by_name["照片/合影.jpg"]
    assert jpeg.path == work / "member-0001"
    assert (jpeg.size, jpeg.sha256) == (len(photo), hashlib.sha256(photo).hexdigest())
    assert (jpeg.facts.kind, jpeg.facts.label) == (AttachmentKind.PHOTO, "JPEG 图片")
    assert jpeg.facts.image is not None and jpeg.facts.image.width == 320
    assert by_name["说明.txt"].facts.is_description


def test_member_files_never_overwrite_what_is_in_the_workdir(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "member-0001").write_bytes(b"someone else's")
    path = mf.make_simple_zip(tmp_path, files={"a.txt": "文字".encode()})

    facts = _inspect(path, work)

    assert (work / "member-0001").read_bytes() == b"someone else's"
    assert facts.members[0].path == work / "member-0002"


def test_a_member_with_the_wrong_extension_is_reported_on_the_member(tmp_path: Path) -> None:
    path = mf.make_simple_zip(tmp_path, files={"照片1.jpg": Path("/bin/true").read_bytes()})

    facts = _inspect(path, tmp_path / "work")

    assert facts.problems == ()
    assert facts.members[0].facts.problems == ("文件“照片1.jpg”不是图片（实际为可执行程序），出于安全原因不予接收",)


def test_directories_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "dirs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("照片/", b"")
        zf.writestr("照片/说明.txt", "文字".encode())

    facts = _inspect(path, tmp_path / "work")

    assert [m.name for m in facts.members] == ["照片/说明.txt"]


def test_a_docx_inside_a_zip_is_a_document_not_an_archive(tmp_path: Path) -> None:
    path = mf.make_simple_zip(tmp_path, files={"说明.docx": mf.docx_bytes()})

    facts = _inspect(path, tmp_path / "work")

    (member,) = facts.members
    assert (member.facts.kind, member.facts.label, member.facts.members) == (AttachmentKind.DOCUMENT, "Word 文档", ())


# --- zip: nesting --------------------------------------------------------------------------------


def _nested(tmp_path: Path) -> Path:
    deep = mf.make_simple_zip(tmp_path, name="第三层.zip", files={"深处.txt": "最深".encode()})
    middle = mf.make_simple_zip(
        tmp_path, name="第二层.zip", files={"第三层.zip": deep.read_bytes(), "中间.txt": "中间".encode()}
    )
    return mf.make_simple_zip(tmp_path, name="第一层.zip", files={"第二层.zip": middle.read_bytes()})


def test_an_archive_inside_an_archive_is_opened_but_not_one_level_deeper(tmp_path: Path) -> None:
    facts = _inspect(_nested(tmp_path), tmp_path / "work")

    (middle,) = facts.members
    assert (middle.name, middle.facts.kind, middle.facts.problems) == ("第二层.zip", AttachmentKind.ARCHIVE, ())
    names = {m.name: m for m in middle.facts.members}
    assert set(names) == {"第三层.zip", "中间.txt"}
    deep = names["第三层.zip"]
    assert deep.path is not None and deep.path.is_file()
    assert deep.facts.members == ()
    assert deep.facts.problems == ("压缩包里套着的压缩包层数过多，未打开",)


def test_depth_zero_opens_only_the_outer_archive(tmp_path: Path) -> None:
    facts = _inspect(_nested(tmp_path), tmp_path / "work", archive_max_depth=0)

    (middle,) = facts.members
    assert middle.facts.members == ()
    assert middle.facts.problems == ("压缩包里套着的压缩包层数过多，未打开",)


# --- zip: bombs and limits ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mf.make_zip_bomb(tmp_path_factory.mktemp("bomb"), megabytes=50)


def test_a_zip_bomb_is_refused_from_its_listing(zip_bomb: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"

    facts = _inspect(zip_bomb, work, "资料.zip")

    assert zip_bomb.stat().st_size < 100_000
    assert facts.members == ()
    assert facts.problems == ("压缩包内“zeros.bin”的压缩比异常（1029 倍，上限 100 倍），疑似压缩炸弹，未解压",)
    assert _files(work) == []


def test_declared_sizes_are_not_trusted(tmp_path: Path) -> None:
    # Given a zip that claims 1000 bytes for a member that inflates to 20 MB
    work = tmp_path / "work"

    facts = _inspect(mf.make_lying_zip(tmp_path, megabytes=20), work)

    # Then no more than the claim is unpacked, and the lie shows as damage
    assert facts.members == ()
    assert facts.problems == ("压缩包已损坏，其中的“zeros.bin”无法解压",)
    assert _files(work) == []


def test_too_much_data_in_total_is_refused(tmp_path: Path) -> None:
    path = mf.make_simple_zip(tmp_path, files={"a.bin": random.Random(1).randbytes(3000), "b.bin": b"x" * 3000})

    facts = _inspect(path, tmp_path / "work", archive_max_total=5000)

    assert facts.members == ()
    assert facts.problems == ("压缩包解压后过大（6 KB，上限 5 KB），未解压",)


def test_the_size_budget_is_shared_with_nested_archives(tmp_path: Path) -> None:
    # Given two inner zips of 2000 random bytes each, inside a zip, and a 7000-byte budget
    inner = {
        f"内层{i}.zip": mf.make_simple_zip(
            tmp_path, name=f"inner{i}.zip", files={"data.bin": random.Random(i).randbytes(2000)}
        ).read_bytes()
        for i in range(2)
    }
    path = mf.make_simple_zip(tmp_path, files=inner)

    facts = _inspect(path, tmp_path / "work", archive_max_total=7000)

    # Then the outer archive fits (about 4.4 KB), the first inner one too, the second no longer
    assert facts.problems == ()
    assert [m.facts.problems for m in facts.members] == [
        (),
        ("压缩包解压后过大（2 KB，连同已解压的文件超过 7 KB 的上限），未解压",),
    ]


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    path = mf.make_simple_zip(tmp_path, files={f"{i}.txt": b"x" for i in range(5)})

    facts = _inspect(path, tmp_path / "work", archive_max_entries=4)

    assert facts.members == ()
    assert facts.problems == ("压缩包内文件过多（5 个，上限 4 个），未解压",)


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    work = tmp_path / "work"

    facts = _inspect(mf.make_overlapping_zip(tmp_path), work)

    assert facts.members == ()
    assert facts.problems == ("压缩包结构异常（其中的文件数据相互重叠），疑似压缩炸弹，未解压",)
    assert _files(work) == []


def test_extraction_stops_at_the_ratio_cap_whatever_the_archive_declared(tmp_path: Path) -> None:
    # Given a member that declares 1000 packed bytes but streams 5 MB (as a lying RAR tool could)
    work = tmp_path / "work"
    work.mkdir()
    budget = Budget(limits=InspectLimits(), workdir=work)
    sink = Extraction(budget=budget, archive_size=1000)
    entry = Entry(name="大文件.bin", size=1000, packed=1000, key=None)

    # When it is copied, it is cut off past 1 MB (100 x 1000 bytes would be less: the small-size floor applies)
    with pytest.raises(LimitExceeded) as stop:
        copy_member(entry, sink, lambda: io.BytesIO(bytes(5 * 1024 * 1024)))

    assert stop.value.problem == "压缩包内“大文件.bin”的压缩比异常（上限 100 倍），疑似压缩炸弹，未解压"
    assert _files(work) == []
    assert sink.done == {}


def test_extraction_stops_at_the_total_budget(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    budget = Budget(limits=InspectLimits(archive_max_total=3 * 1024 * 1024), workdir=work)
    sink = Extraction(budget=budget, archive_size=10**9)
    entry = Entry(name="a.bin", size=10, packed=None, key=None)

    with pytest.raises(LimitExceeded) as stop:
        copy_member(entry, sink, lambda: io.BytesIO(bytes(5 * 1024 * 1024)))

    assert stop.value.problem == "压缩包解压后过大（超过 3 MB 的上限），已停止解压"
    assert _files(work) == []


# --- zip: links, passwords, damage -------------------------------------------------------------


def test_a_symlink_member_is_listed_but_not_extracted(tmp_path: Path) -> None:
    path = mf.make_zip(
        tmp_path,
        entries=[
            mf.ZipEntry(raw_name=b"passwd", data=b"/etc/passwd", symlink=True),
            mf.ZipEntry(raw_name="说明.txt".encode(), data="文字".encode(), utf8_flag=True),
        ],
    )
    work = tmp_path / "work"

    facts = _inspect(path, work)

    assert facts.problems == ("压缩包内的“passwd”是符号链接，已跳过",)
    link, text = facts.members
    assert (link.name, link.path, link.facts.label) == ("passwd", None, "符号链接")
    assert text.path is not None
    assert _files(work) == ["member-0001"]


def test_an_encrypted_zip_is_a_problem_not_an_error(tmp_path: Path) -> None:
    facts = _inspect(mf.make_encrypted_zip(tmp_path), tmp_path / "work")

    assert (facts.kind, facts.members, facts.problems) == (AttachmentKind.ARCHIVE, (), (PASSWORD,))


def test_a_cut_off_zip_cannot_be_opened(tmp_path: Path) -> None:
    full = mf.make_simple_zip(tmp_path, files={"a.bin": random.Random(3).randbytes(5000)})
    path = mf.truncated_copy(full, tmp_path, name="cut.zip")

    facts = _inspect(path, tmp_path / "work", "作品.zip")

    assert facts.kind is AttachmentKind.ARCHIVE
    assert facts.problems == (DAMAGED,)


def test_a_damaged_member_is_named_and_the_others_kept(tmp_path: Path) -> None:
    path = mf.make_zip(
        tmp_path,
        entries=[
            mf.ZipEntry(raw_name="坏的.txt".encode(), data=b"A" * 100, utf8_flag=True, compress=zipfile.ZIP_STORED),
            mf.ZipEntry(raw_name="好的.txt".encode(), data="完好".encode(), utf8_flag=True),
        ],
    )
    data = bytearray(path.read_bytes())
    data[data.index(b"A" * 100)] = ord("B")  # the stored bytes no longer match their CRC
    path.write_bytes(bytes(data))

    facts = _inspect(path, tmp_path / "work")

    assert facts.problems == ("压缩包已损坏，其中的“坏的.txt”无法解压",)
    assert [m.name for m in facts.members] == ["好的.txt"]


# --- rar ---------------------------------------------------------------------------------------


def test_rar_members_and_names(tmp_path: Path) -> None:
    # Given a RAR 4 archive with a Unicode name, an old GBK name, a folder and a symlink
    path = mf.make_rar(
        tmp_path,
        entries=[
            mf.RarEntry(raw_name="照片".encode(), directory=True),
            mf.RarEntry(raw_name="照片/合影说明.txt".encode(), data="合影".encode()),
            mf.RarEntry(raw_name="喆的说明.txt".encode("gbk"), data="说明".encode(), unicode_flag=False),
            mf.RarEntry(raw_name=b"link", data=b"/etc/passwd", symlink=True),
        ],
    )
    work = tmp_path / "work"

    facts = _inspect(path, work, "作品.rar")

    assert (facts.kind, facts.label) == (AttachmentKind.ARCHIVE, "RAR 压缩包")
    assert facts.problems == ("压缩包内的“link”是符号链接，已跳过",)
    assert [(m.name, m.path is not None) for m in facts.members] == [
        ("照片/合影说明.txt", True),
        ("喆的说明.txt", True),
        ("link", False),
    ]
    assert _files(work) == ["member-0001", "member-0002"]
    assert facts.members[0].path is not None
    assert facts.members[0].path.read_bytes() == "合影".encode()


def test_an_encrypted_rar_is_a_problem(tmp_path: Path) -> None:
    path = mf.make_rar(tmp_path, entries=[mf.RarEntry(raw_name=b"secret.txt", data=b"xxxx", encrypted=True)])

    facts = _inspect(path, tmp_path / "work")

    assert (facts.members, facts.problems) == ((), (PASSWORD,))


def test_a_broken_rar_cannot_be_opened(tmp_path: Path) -> None:
    path = tmp_path / "broken.rar"
    path.write_bytes(b"Rar!\x1a\x07\x00" + random.Random(5).randbytes(300))

    facts = _inspect(path, tmp_path / "work")

    assert (facts.kind, facts.problems) == (AttachmentKind.ARCHIVE, (DAMAGED,))


def test_this_server_has_a_tool_for_compressed_rar_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Compressed members go through an external tool (Debian: unar, or bsdtar from libarchive-tools);
    # forcing the tool on a stored member proves the whole pipe works here.
    assert shutil.which("unar") or shutil.which("bsdtar"), "install the Debian package unar"
    monkeypatch.setattr(rarfile, "FORCE_TOOL", True)
    path = mf.make_rar(tmp_path, entries=[mf.RarEntry(raw_name="说明.txt".encode(), data="经由工具解压".encode())])

    facts = _inspect(path, tmp_path / "work")

    assert facts.problems == ()
    (member,) = facts.members
    assert member.path is not None
    assert member.path.read_bytes() == "经由工具解压".encode()


def test_a_compressed_rar_member_that_will_not_unpack_is_named(tmp_path: Path) -> None:
    # Given a member marked as compressed whose data are noise: the external tool fails on it
    path = mf.make_rar(
        tmp_path,
        entries=[
            mf.RarEntry(raw_name="完好.txt".encode(), data="完好".encode()),
            mf.RarEntry(raw_name="压缩.txt".encode(), data=random.Random(1).randbytes(500), method=0x33),
        ],
    )

    facts = _inspect(path, tmp_path / "work")

    assert facts.problems == ("压缩包已损坏，其中的“压缩.txt”无法解压",)
    assert [m.name for m in facts.members] == ["完好.txt"]


def test_a_missing_rar_tool_is_a_setup_fault_not_the_senders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no unrar, unar or bsdtar (7-Zip may be there: Debian's has no RAR codec and is never used)
    for tool in ("UNRAR_TOOL", "UNAR_TOOL", "BSDTAR_TOOL"):
        monkeypatch.setattr(rarfile, tool, str(tmp_path / "no-such-tool"))
    monkeypatch.setattr(rarfile, "CURRENT_SETUP", None)
    path = mf.make_rar(tmp_path, entries=[mf.RarEntry(raw_name=b"a.txt", data=b"x" * 50, method=0x33)])

    with pytest.raises(MissingToolError):
        _inspect(path, tmp_path / "work")


# --- 7z ----------------------------------------------------------------------------------------


def test_7z_members_and_symlinks(tmp_path: Path) -> None:
    photo = mf.make_jpeg(tmp_path, size=(160, 120)).read_bytes()
    path = mf.make_7z(
        tmp_path, files={"照片/合影.jpg": photo, "说明.txt": "说明".encode()}, symlink=("link", "/etc/passwd")
    )
    work = tmp_path / "work"

    facts = _inspect(path, work, "作品.7z")

    assert (facts.kind, facts.label) == (AttachmentKind.ARCHIVE, "7Z 压缩包")
    assert facts.problems == ("压缩包内的“link”是符号链接，已跳过",)
    by_name = {m.name: m for m in facts.members}
    assert set(by_name) == {"照片/合影.jpg", "说明.txt", "link"}
    assert by_name["照片/合影.jpg"].sha256 == hashlib.sha256(photo).hexdigest()
    assert by_name["照片/合影.jpg"].facts.kind is AttachmentKind.PHOTO
    assert by_name["link"].path is None
    assert _files(work) == ["member-0001", "member-0002"]


def test_same_named_7z_members_are_all_kept(tmp_path: Path) -> None:
    path = tmp_path / "dup.7z"
    import py7zr

    with py7zr.SevenZipFile(path, "w") as archive:
        archive.writestr("第一份".encode(), "同名.txt")
        archive.writestr("第二份".encode(), "同名.txt")

    facts = _inspect(path, tmp_path / "work")

    assert [m.name for m in facts.members] == ["同名.txt", "同名.txt"]
    contents = sorted(m.path.read_bytes().decode() for m in facts.members if m.path is not None)
    assert contents == ["第一份", "第二份"]


@pytest.mark.parametrize("encrypt_names", [False, True])
def test_an_encrypted_7z_is_a_problem(tmp_path: Path, encrypt_names: bool) -> None:
    path = mf.make_7z(tmp_path, files={"a.txt": b"secret"}, password="密码", encrypt_names=encrypt_names)

    facts = _inspect(path, tmp_path / "work")

    assert (facts.members, facts.problems) == ((), (PASSWORD,))


def test_a_7z_bomb_is_refused(tmp_path: Path) -> None:
    path = mf.make_7z(tmp_path, files={"zeros.bin": bytes(8 * 1024 * 1024)})

    facts = _inspect(path, tmp_path / "work")

    assert facts.members == ()
    assert len(facts.problems) == 1
    assert facts.problems[0].endswith("疑似压缩炸弹，未解压")


def test_a_damaged_7z_keeps_the_members_before_the_damage(tmp_path: Path) -> None:
    path = mf.make_7z(tmp_path, files={f"{i}.bin": random.Random(i).randbytes(3000) for i in range(3)})
    data = bytearray(path.read_bytes())
    data[32 + 4000] ^= 0xFF  # inside the second member's compressed data
    path.write_bytes(bytes(data))
    work = tmp_path / "work"

    facts = _inspect(path, work)

    assert facts.problems == ("压缩包已损坏，其中的“1.bin”“2.bin”无法解压",)
    assert [m.name for m in facts.members] == ["0.bin"]
    assert _files(work) == ["member-0001"]


def test_a_cut_off_7z_is_damaged(tmp_path: Path) -> None:
    full = mf.make_7z(tmp_path, files={"a.bin": random.Random(9).randbytes(5000)})
    path = mf.truncated_copy(full, tmp_path, name="cut.7z")

    facts = _inspect(path, tmp_path / "work")

    assert facts.problems == (DAMAGED,)


# --- nothing raises ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signature", "name"),
    [
        (b"PK\x03\x04", "a.zip"),
        (b"Rar!\x1a\x07\x01\x00", "a.rar"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "a.7z"),
        (b"\xff\xd8\xff\xe1", "a.jpg"),
        (b"\x89PNG\r\n\x1a\n", "a.png"),
        (b"\x00\x00\x00\x20ftypisom", "a.mp4"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "a.heic"),
        (b"ID3\x04\x00\x00", "a.mp3"),
        (b"%PDF-1.7\n", "a.pdf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a.doc"),
    ],
)
def test_garbage_behind_a_signature_never_raises(tmp_path: Path, signature: bytes, name: str) -> None:
    for seed in range(3):
        path = tmp_path / f"{seed}-{name}"
        path.write_bytes(signature + random.Random(seed).randbytes(2000))

        facts = inspect_file(path, filename=name, workdir=tmp_path / "work")

        assert facts.label


def test_every_truncation_of_a_real_archive_is_judged_without_raising(tmp_path: Path) -> None:
    archives = [
        mf.make_simple_zip(tmp_path, files={"a.txt": b"hello " * 200, "b.jpg": mf.make_jpeg(tmp_path).read_bytes()}),
        mf.make_7z(tmp_path, files={"a.txt": b"hello " * 200}),
        mf.make_rar(tmp_path, entries=[mf.RarEntry(raw_name=b"a.txt", data=b"hello " * 200)]),
    ]
    for archive in archives:
        data = archive.read_bytes()
        for keep in (10, 40, 100, len(data) // 2, len(data) - 30, len(data) - 1):
            path = tmp_path / f"cut-{keep}-{archive.name}"
            path.write_bytes(data[:keep])

            facts = inspect_file(path, filename=archive.name, workdir=tmp_path / "work")

            assert facts.label
