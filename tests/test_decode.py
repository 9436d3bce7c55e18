"""Tests for ingest.mail.decode: headers, parameters and bodies as Chinese mail clients send them."""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
from pathlib import Path

import pytest

from ingest.mail.decode import (
    GB_FAMILY,
    Decoded,
    attachment_filename,
    codec_for,
    decode_header,
    decode_param,
    decode_text,
    normalise_subject,
)

DATA = Path(__file__).parent / "data" / "decode"

# Names with characters that are in GBK/GB18030 but not in GB2312, and one with a middle dot.
GBK_ONLY = "张喆 王堃 朱镕"
MIDDOT_NAME = "才让·多杰"


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def b_word(charset: str, data: bytes) -> bytes:
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(data) + b"?="


def q_word(charset: str, data: bytes) -> bytes:
    """Q-encode every byte (spaces as underscores), as Foxmail and Outlook do."""
    body = b"".join(b"_" if c == 0x20 else b"=%02X" % c for c in data)
    return b"=?" + charset.encode() + b"?Q?" + body + b"?="


def pct(data: bytes) -> bytes:
    return b"".join(b"%%%02X" % c for c in data)


def message(headers: bytes, policy: email.policy.Policy | None = None) -> email.message.Message:
    raw = b"MIME-Version: 1.0\r\n" + headers + b"\r\n\r\nbody\r\n"
    if policy is None:
        return email.message_from_bytes(raw)
    return email.message_from_bytes(raw, policy=policy)


def raw_header(eml: bytes, name: str) -> bytes:
    """The first ``name`` header of ``eml`` exactly as its bytes stand, folds included."""
    head = eml.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    value: list[bytes] = []
    for line in head.split(b"\n"):
        if value and line[:1] in (b" ", b"\t"):
            value.append(b"\r\n" + line)
        elif value:
            break
        elif line.lower().startswith(name.lower().encode() + b":"):
            value.append(line.split(b":", 1)[1])
    return b"".join(value)


# --------------------------------------------------------------------------------------------------
# codec_for
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label", sorted(GB_FAMILY))
def test_every_gb_family_label_is_gb18030(label: str) -> None:
    assert codec_for(label) == "gb18030"
    assert codec_for(label.upper()) == "gb18030"
    assert codec_for(f' "{label}" ') == "gb18030"


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("GB2312", "gb18030"),
        ("x-gbk", "gb18030"),
        ("CP936", "gb18030"),
        ("EUC-CN", "gb18030"),
        ("gb18030*zh-cn", "gb18030"),
        ("utf8", "utf-8"),
        ("UTF-8", "utf-8"),
        ("latin1", "iso8859-1"),
        ("ISO-8859-1", "iso8859-1"),
        ("us-ascii", "ascii"),
        ("ks_c_5601-1987", "cp949"),
        ("euc-kr", "cp949"),
        ("iso-2022-jp", "iso2022_jp"),
        ("shift_jis", "cp932"),
        ("big5", "big5hkscs"),
        ("windows-1252", "cp1252"),
        ("Windows-1251", "cp1251"),
        ("unicode-1-1-utf-7", "utf-7"),
        ("koi8-r", "koi8-r"),
        ("iso-8859-15", "iso8859-15"),
    ],
)
def test_codec_for_aliases(label: str, codec: str) -> None:
    assert codec_for(label) == codec


@pytest.mark.parametrize(
    "label",
    [
        None,
        "",
        "   ",
        "x-unknown",
        "unknown-8bit",
        "default",
        "base64",
        "rot13",
        "hex",
        "zlib",
        "idna",
        "punycode",
        "unicode_escape",
        "undefined",
        "mbcs",
        "aliases",
        "utf\x008",
        "gb2312\x00",
        "\ud800",
        "中文",
        "x" * 10_000,
        "gbk" * 3000,
        "=?",
        "../../etc/passwd",
        "utf-8'zh'",
    ],
)
def test_codec_for_unknown_or_bogus_is_none(label: str | None) -> None:
    assert codec_for(label) is None


# --------------------------------------------------------------------------------------------------
# decode_header
# --------------------------------------------------------------------------------------------------


def test_gb2312_label_with_gbk_only_characters_b_and_q() -> None:
    # 喆 86B4, 堃 88D2, 镕 E946 are outside GB2312; Python's gb2312 codec rejects them.
    with pytest.raises(UnicodeDecodeError):
        gb(GBK_ONLY).decode("gb2312")
    assert decode_header(b_word("gb2312", gb(GBK_ONLY))) == Decoded(GBK_ONLY, ())
    assert decode_header(q_word("GB2312", gb(GBK_ONLY))) == Decoded(GBK_ONLY, ())
    assert decode_header(b_word("x-gbk", gb(GBK_ONLY))).text == GBK_ONLY


def test_middle_dot_in_gb2312_word_stays_u00b7() -> None:
    raw = gb(MIDDOT_NAME)
    assert raw[4:6] == b"\xa1\xa4"
    assert raw.decode("gb2312") == "才让\u30fb多杰"  # what a naive decode gives
    decoded = decode_header(b_word("gb2312", raw))
    assert decoded.text == MIDDOT_NAME
    assert "\u00b7" in decoded.text
    assert "\u30fb" not in decoded.text


@pytest.mark.parametrize("charsets", [("utf-8", "UTF-8"), ("gb2312", "GBK"), ("gb18030", "gb18030")])
@pytest.mark.parametrize("between", [b" ", b"\r\n ", b"\r\n\t", b""])
def test_character_split_across_two_encoded_words(charsets: tuple[str, str], between: bytes) -> None:
    text = "西宁市总工会"
    codec = "utf-8" if charsets[0] == "utf-8" else "gb18030"
    data = text.encode(codec)
    cut = 4 if codec == "utf-8" else 3  # inside 宁 (UTF-8) / inside 宁 (GB)
    with pytest.raises(UnicodeDecodeError):
        data[:cut].decode(codec)
    raw = b_word(charsets[0], data[:cut]) + between + q_word(charsets[1], data[cut:])
    assert decode_header(raw) == Decoded(text, ())


def test_whitespace_between_words_dropped_but_kept_next_to_text() -> None:
    raw = b"Re: " + b_word("utf-8", "西宁".encode()) + b" \t " + b_word("gbk", gb("总工会")) + b" (6)"
    assert decode_header(raw).text == "Re: 西宁总工会 (6)"


def test_words_without_whitespace_and_inside_quotes() -> None:
    word = b_word("gb2312", gb("张三"))
    assert decode_header(b"x" + word + b"y" + word).text == "x张三y张三"
    assert decode_header(b'"' + word + b'" <zhang@example.org>').text == '"张三" <zhang@example.org>'


def test_charset_with_language_and_lower_case_encoding() -> None:
    raw = b"=?gb2312*zh-cn?b?" + base64.b64encode(gb("总工会")) + b"?="
    assert decode_header(raw) == Decoded("总工会", ())


def test_q_encoding_with_underscores() -> None:
    raw = b"=?gb2312?Q?=CE=F7=C4=FE_=CA=D0?= =?utf-8?q?a_b=3Dc?="
    assert decode_header(raw) == Decoded("西宁 市a b=c", ())


def test_folded_header_is_unfolded() -> None:
    raw = b"Re:\r\n " + b_word("gbk", gb("西宁市")) + b"\r\n\t" + b_word("gbk", gb("总工会")) + b"\r\n"
    decoded = decode_header(raw)
    assert decoded.text == "Re: 西宁市总工会"
    assert "\r" not in decoded.text
    assert "\n" not in decoded.text


@pytest.mark.parametrize("text", ["回复：西宁市总工会线下活动汇总（6月）", GBK_ONLY, MIDDOT_NAME])
def test_raw_8bit_utf8_subject(text: str) -> None:
    eml = b"Subject: " + text.encode() + b"\r\n\r\nx"
    assert decode_header(raw_header(eml, "Subject")) == Decoded(text, ())
    compat = email.message_from_bytes(eml)
    assert decode_header(dict(compat.raw_items())["Subject"]).text == text  # surrogate-escaped str


@pytest.mark.parametrize("text", ["回复：西宁市总工会线下活动汇总（6月）", GBK_ONLY, MIDDOT_NAME])
def test_raw_8bit_gb18030_subject(text: str) -> None:
    eml = b"Subject: Re: " + gb(text) + b"\r\n\r\nx"
    assert decode_header(raw_header(eml, "Subject")) == Decoded("Re: " + text, ())
    compat = email.message_from_bytes(eml)
    assert decode_header(dict(compat.raw_items())["Subject"]).text == "Re: " + text
    # compat32's msg["Subject"] is an email.header.Header here; its bytes are still recovered
    assert decode_header(compat["Subject"]).text == "Re: " + text


def test_raw_8bit_neither_utf8_nor_gb_is_latin1_with_defect() -> None:
    decoded = decode_header(b"Caf\xe9 \xff\xfe")
    assert decoded.text == "Caf\xe9 \xff\xfe"
    assert decoded.defects
    assert "latin-1" in decoded.defects[0]


def test_unknown_charset_falls_back_and_records_defect() -> None:
    utf8 = decode_header(b_word("x-unknown", "西宁市总工会".encode()))
    assert utf8.text == "西宁市总工会"
    assert any("x-unknown" in d for d in utf8.defects)
    gbk = decode_header(b_word("x-unknown", gb(GBK_ONLY)))
    assert gbk.text == GBK_ONLY
    assert gbk.defects
    bogus = decode_header(b"=?utf\x008?B?" + base64.b64encode(b"ok") + b"?=")
    assert bogus.text == "ok"
    assert bogus.defects


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"5Lit5paH", "中文"),  # well formed
        (b"5Lit5paH5", "中文"),  # one character too many: dropped
        (b"5Lit5pa", "中\ufffd"),  # missing padding, last character cut short
        (b"5L!it5p$aH", "中文"),  # characters outside the alphabet
        (b"5Lit=5paH", "中文"),  # padding in the middle (two words glued)
        (b"====", ""),
    ],
)
def test_broken_base64_decodes_what_it_can(payload: bytes, expected: str) -> None:
    decoded = decode_header(b"=?utf-8?B?" + payload + b"?=")
    assert decoded.text == expected
    assert bool(decoded.defects) == (payload != b"5Lit5paH")


def test_encoded_cr_lf_become_spaces_and_nul_is_kept() -> None:
    raw = b"=?utf-8?Q?a=0D=0Ab=0Dc=0Ad=00e?= " + b_word("utf-8", b"f\r\ng\x00")
    decoded = decode_header(raw)
    assert decoded.text == "a b c d\x00ef g\x00"
    assert "\r" not in decoded.text
    assert "\n" not in decoded.text


def test_bare_line_breaks_in_raw_value_become_spaces() -> None:
    decoded = decode_header("西宁\r\nBcc: x@example.org\n市\r")
    assert decoded.text == "西宁 Bcc: x@example.org 市"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"=?",
        b"=??B??=",
        b"=?utf-8?X?abc?=",
        b"=?utf-8?B?",
        b"=?gb2312?Q?=ZZ=4?=",
        b"=?utf-7?B?" + base64.b64encode(b"+AGEA-+") + b"?=",
        b"=?utf-16?B?" + base64.b64encode(b"\x00a\x00") + b"?=",
        "\ud800\udfff\udc80",
        "已解码的主题",
        b"\x00\r\n\x00",
    ],
)
def test_never_raises(raw: str | bytes) -> None:
    decoded = decode_header(raw)
    assert isinstance(decoded.text, str)
    assert "\r" not in decoded.text
    assert "\n" not in decoded.text


def test_unterminated_and_malformed_words_stay_literal() -> None:
    assert decode_header(b"=?utf-8?B?5Lit5paH?").text == "=?utf-8?B?5Lit5paH?"
    assert decode_header(b"=?gb2312?Q?=ZZ?=").text == "=ZZ"


def test_200kb_header_returns() -> None:
    words = (b_word("gb2312", gb("西宁市总工会")) + b"\r\n ") * 7000
    assert len(words) > 200_000
    decoded = decode_header(words)
    assert decoded.text == "西宁市总工会" * 7000
    for raw in (b"=?" * 100_000, b"=?a?b?" + b"x" * 200_000, b"=?utf-8?Q?" + b"=" * 200_000, b"\xd5" * 200_001):
        assert isinstance(decode_header(raw).text, str)


def test_stdlib_default_policy_gets_it_wrong_and_decode_header_gets_it_right() -> None:
    subject = f"回复：{MIDDOT_NAME} {GBK_ONLY}"
    eml = b"Subject: " + b_word("gb2312", gb(subject)) + b"\r\n\r\nbody\r\n"
    naive = email.message_from_bytes(eml, policy=email.policy.default)["Subject"]
    assert naive != subject
    assert "\u30fb" in naive  # the middle dot became a katakana middle dot ...
    assert "喆" not in naive  # ... and the GBK-only characters were lost
    assert decode_header(raw_header(eml, "Subject")) == Decoded(subject, ())


# --------------------------------------------------------------------------------------------------
# decode_param and attachment_filename
# --------------------------------------------------------------------------------------------------

POLICIES = [pytest.param(None, id="compat32"), pytest.param(email.policy.default, id="default")]


@pytest.mark.parametrize("policy", POLICIES)
def test_rfc2231_continuations_with_gbk_charset(policy: email.policy.Policy | None) -> None:
    name = f"{MIDDOT_NAME}-{GBK_ONLY}.docx"
    data = gb(name)
    cut = 5  # inside the middle dot A1|A4
    headers = (
        b"Content-Disposition: attachment;\r\n\tfilename*0*=GBK''"
        + pct(data[:cut])
        + b";\r\n\tfilename*1*="
        + pct(data[cut:-5])
        + b";\r\n\tfilename*2=.docx"
    )
    msg = message(headers, policy)
    assert decode_param(msg, "filename") == name
    assert attachment_filename(msg) == name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"filename*=''" + pct("中文.txt".encode()), "中文.txt"),  # empty charset
        (b"filename*=" + pct(gb("报名表.xlsx")), "报名表.xlsx"),  # no charset at all
        (b"filename*=\"utf-8'zh'" + pct("报名表.xlsx".encode()) + b'"', "报名表.xlsx"),  # quoted
        (b"FILENAME*=gb2312''" + pct(gb(GBK_ONLY)), GBK_ONLY),
        (b"filename*=x-unknown''" + pct(gb(GBK_ONLY)), GBK_ONLY),
        (b"filename*=utf-8''a%0D%0Ab%zz", "a b%zz"),
    ],
)
def test_rfc2231_single_values(value: bytes, expected: str) -> None:
    msg = message(b"Content-Disposition: attachment; " + value)
    assert decode_param(msg, "filename") == expected


@pytest.mark.parametrize("policy", POLICIES)
def test_quoted_rfc2047_filename(policy: email.policy.Policy | None) -> None:
    name = f"{MIDDOT_NAME}报名表.xlsx"
    data = gb(name)
    headers = (
        b'Content-Type: application/octet-stream; name="'
        + b_word("gb2312", data)
        + b'"\r\nContent-Disposition: attachment;\r\n filename="'
        + b_word("gb2312", data[:5])
        + b"\r\n "
        + b_word("gb2312", data[5:])
        + b'"'
    )
    msg = message(headers, policy)
    assert decode_param(msg, "filename") == name
    assert decode_param(msg, "name", "Content-Type") == name
    assert attachment_filename(msg) == name


@pytest.mark.parametrize("policy", POLICIES)
def test_name_only_in_content_type_unquoted_rfc2047(policy: email.policy.Policy | None) -> None:
    name = "西宁市总工会 活动汇总;第二批.xlsx"
    headers = b"Content-Type: application/vnd.ms-excel; name=" + b_word("utf-8", name.encode())
    headers += b"\r\nContent-Disposition: attachment"
    msg = message(headers, policy)
    assert decode_param(msg, "filename") is None
    assert decode_param(msg, "name", "content-type") == name
    assert attachment_filename(msg) == name
    q_name = message(b"Content-Type: text/plain; name==?utf-8?Q?a;b_c?=; charset=utf-8")
    assert attachment_filename(q_name) == "a;b c"


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("codec", ["utf-8", "gb18030"])
def test_raw_8bit_filename(policy: email.policy.Policy | None, codec: str) -> None:
    name = f"{MIDDOT_NAME} {GBK_ONLY}.docx"
    quoted = message(b'Content-Disposition: attachment; filename="' + name.encode(codec) + b'"', policy)
    assert attachment_filename(quoted) == name
    bare = message(b"Content-Disposition: attachment; filename=" + name.encode(codec) + b"; size=3", policy)
    assert attachment_filename(bare) == name


def test_gbk_trail_byte_backslash_in_quoted_filename() -> None:
    # 乗 is GBK 81 5C: its trail byte is a backslash and must not escape the closing quote.
    data = gb("乗.txt")
    assert data[1:2] == b"\\"
    msg = message(b'Content-Disposition: attachment; filename="' + gb("乗") + b'"; size=1')
    assert attachment_filename(msg) == "乗"
    escaped = message(b'Content-Disposition: attachment; filename="C:\\docs\\a \\"q\\" \\\\.txt"')
    assert attachment_filename(escaped) == 'C:\\docs\\a "q" \\.txt'


def test_duplicates_first_wins_and_rfc2231_preferred() -> None:
    dup = message(b'Content-Disposition: attachment; filename="a.txt"; filename="b.txt"; FileName=c.txt')
    assert decode_param(dup, "filename") == "a.txt"
    both = message(
        b"Content-Disposition: attachment; filename=\"fallback.txt\"; filename*=utf-8''%E4%B8%AD.txt;"
        b" filename*=utf-8''second.txt"
    )
    assert decode_param(both, "filename") == "中.txt"
    sections = message(b"Content-Disposition: attachment; filename*1=b; filename*0=a; filename*1=x")
    assert decode_param(sections, "filename") == "ab"


def test_missing_header_or_parameter_is_none() -> None:
    msg = message(b"Content-Type: text/plain; charset=gb2312")
    assert decode_param(msg, "filename") is None
    assert decode_param(msg, "name", "content-type") is None
    assert decode_param(msg, "charset", "content-type") == "gb2312"
    assert attachment_filename(msg) is None


def test_content_type_with_20000_semicolons_returns() -> None:
    msg = message(b"Content-Type: text/plain" + b";" * 20_000 + b"; name=" + b_word("utf-8", "中.txt".encode()))
    assert attachment_filename(msg) == "中.txt"
    many = b"".join(b"; name*%d*=%%41" % i for i in range(9999, -1, -1))
    assert attachment_filename(message(b"Content-Type: text/plain" + many)) == "A" * 10_000
    quote = message(b'Content-Type: text/plain; name="' + b"\\" * 100_001)
    assert isinstance(attachment_filename(quote), str)


def test_parameter_of_programmatic_default_policy_message() -> None:
    msg = email.message.EmailMessage()
    msg.add_attachment(b"x", maintype="application", subtype="octet-stream", filename=f"{MIDDOT_NAME}.bin")
    part = next(iter(msg.iter_attachments()))
    assert attachment_filename(part) == f"{MIDDOT_NAME}.bin"


# --------------------------------------------------------------------------------------------------
# Samples composed by mutt (see tests/data/decode/README.md)
# --------------------------------------------------------------------------------------------------

# file: (From display name, Subject, attachment file name), exactly as typed into mutt.
MUTT_SAMPLES: dict[str, tuple[str, str, str]] = {
    "mutt-gb2312.eml": (
        "西宁市总工会",
        "回复：西宁市总工会+线下活动汇总（6月）",
        "西宁市总工会线下活动汇总表.csv",
    ),
    "mutt-gbk-middot.eml": ("才让·多杰", "才让·多杰：海东市总工会 线下活动报名", "才让·多杰 报名表.csv"),
    "mutt-split-utf8.eml": ("才让·多杰", "才让·多杰：海东市总工会 线下活动报名", "才让·多杰 报名表.csv"),
    "mutt-gb18030.eml": (
        "张喆",
        "答复: 张喆、王堃、朱镕 报名（格尔木市总工会）",
        "张喆-王堃-朱镕 报名表.csv",
    ),
    "mutt-utf8.eml": (
        "玉树藏族自治州总工会",
        "Fwd: 转发：玉树藏族自治州总工会关于开展“职工书屋”线下读书分享活动的报名材料汇总（第二批，共十二个单位）",
        "玉树藏族自治州总工会职工书屋线下读书分享活动报名材料汇总表（第二批）.csv",
    ),
}


@pytest.mark.parametrize("name", sorted(MUTT_SAMPLES))
def test_mutt_samples(name: str) -> None:
    realname, subject, filename = MUTT_SAMPLES[name]
    eml = (DATA / name).read_bytes()
    assert b"User-Agent: Mutt/2.2.12" in eml
    assert decode_header(raw_header(eml, "Subject")) == Decoded(subject, ())
    assert decode_header(raw_header(eml, "From")) == Decoded(f"{realname} <sender@example.org>", ())
    for policy in (None, email.policy.default):
        msg = email.message_from_bytes(eml) if policy is None else email.message_from_bytes(eml, policy=policy)
        assert decode_header(dict(msg.raw_items())["Subject"]).text == subject
        names = [attachment_filename(part) for part in msg.walk()]
        assert names == [None, None, filename]
    assert normalise_subject(subject).startswith(("西宁", "才让", "张喆", "玉树"))


def test_mutt_samples_show_the_quirks() -> None:
    """The samples really contain what the README says (so the tests above prove something)."""
    split = raw_header((DATA / "mutt-split-utf8.eml").read_bytes(), "Subject")
    first_word = base64.b64decode(split.split(b"?")[3])
    with pytest.raises(UnicodeDecodeError):
        first_word.decode("utf-8")
    middot = (DATA / "mutt-gbk-middot.eml").read_bytes()
    middot_subject = raw_header(middot, "Subject")
    assert middot_subject.startswith(b" =?gbk?B?")
    assert b"\xa1\xa4" in base64.b64decode(middot_subject.split(b"?")[3])
    assert b"filename*=gbk''%B2%C5%C8%C3%A1%A4" in middot
    gb18030 = (DATA / "mutt-gb18030.eml").read_bytes()
    assert b"%B1;\n\tfilename*1*=%ED" in gb18030
    naive = email.message_from_bytes(gb18030, policy=email.policy.default)
    parts = list(naive.walk())
    assert parts[2].get_filename() != MUTT_SAMPLES["mutt-gb18030.eml"][2]
    assert attachment_filename(parts[2]) == MUTT_SAMPLES["mutt-gb18030.eml"][2]


# --------------------------------------------------------------------------------------------------
# decode_text
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "charset", "expected"),
    [
        (gb(f"{MIDDOT_NAME}：{GBK_ONLY}"), "gb2312", f"{MIDDOT_NAME}：{GBK_ONLY}"),
        (gb(GBK_ONLY), "GBK", GBK_ONLY),
        ("各位好".encode(), None, "各位好"),
        (gb("各位好，附件是报名表"), None, "各位好，附件是报名表"),
        (gb("各位好，附件是报名表"), "utf-8", "各位好，附件是报名表"),  # mislabelled
        (gb("各位好，附件是报名表"), "x-unknown", "各位好，附件是报名表"),
        ("各位好".encode(), "bogus\x00" * 2000, "各位好"),
        (b"Caf\xe9 \xff", None, "Caf\xe9 \xff"),
        (b"", "gb2312", ""),
        (gb("各位好，附件是报名表，请查收") + b"\xff", "gb2312", "各位好，附件是报名表，请查收\ufffd"),
    ],
)
def test_decode_text(payload: bytes, charset: str | None, expected: str) -> None:
    assert decode_text(payload, charset) == expected


# --------------------------------------------------------------------------------------------------
# normalise_subject
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("回复：西宁市总工会+线下活动汇总（6月）", "西宁市总工会+线下活动汇总(6月)"),
        ("答复: 回复：RE: Fw: FWD[2]: 转发: 转：西宁市总工会", "西宁市总工会"),
        ("Re(3): Re [2] : 回覆：西宁总工会", "西宁总工会"),
        ("ＲＥ：　西宁市总工会＋线下活动汇总（６月）  ", "西宁市总工会+线下活动汇总(6月)"),
        ("  Re:   西宁市总工会 \t 线下活动汇总\r\n（6月） ", "西宁市总工会 线下活动汇总 (6月)"),
        ("Re: [外部邮件] Re: 西宁市总工会", "[外部邮件] Re: 西宁市总工会"),
        ("【西宁市总工会】线下活动汇总", "【西宁市总工会】线下活动汇总"),
        ("转正申请：张三", "转正申请:张三"),
        ("Rewards: x", "Rewards: x"),
        ("fwd:", ""),
        (f"回复：{MIDDOT_NAME}", MIDDOT_NAME),
    ],
)
def test_normalise_subject(subject: str, expected: str) -> None:
    assert normalise_subject(subject) == expected


def test_normalise_subject_many_prefixes_is_linear() -> None:
    assert normalise_subject("Re: " * 50_000 + "西宁") == "西宁"
    assert normalise_subject("Re " * 50_000) == ("Re " * 50_000).strip()
