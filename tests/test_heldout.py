"""Held-out mail: submissions written as the units of 2020 send them (Coremail 126/163, QQ Mail,
Foxmail, Outlook zh-CN, iPhone Mail, files made with WPS), each with what a careful host decides,
written down before the mail was first judged. Through `intake import` on the example's whole
roster and eight mailboxes; a few through Dovecot. The reply each unit gets is read as it would be.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from devservers.dovecot import Dovecot
from devservers.smtpsink import SmtpSink
from intake.cli import cli
from tests import clientmail as cm
from tests import mediafactory as mf
from tests import officedocs as od
from tests.clientmail import File
from tests.documentfactory import jpeg

pytestmark = pytest.mark.servers

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
BOXES = {
    "offline-activity": "wxb0626@126.com",
    "micro-video": "fengxingzixk@163.com",
    "recitation": "296592790@qq.com",
    "photography": "124111397@qq.com",
    "service-platform": "402598801@qq.com",
    "micro-film": "120795360@qq.com",
    "song": "837347186@qq.com",
    "micro-lesson": "1174640079@qq.com",
}


def _roster() -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    return text[text.index("[[units]]") :]


def write_config(path: Path, *, db_url: str, smtp: SmtpSink, imap: tuple[Dovecot, str] | None = None) -> Path:
    """The example's roster and eight mailboxes with its deadlines; the offline-activity mailbox on
    Dovecot when `imap` is given, the others on a port where nothing listens (used by import only)."""
    boxes = []
    for kind, address in BOXES.items():
        host, port, user = "127.0.0.1", 1143, kind
        if imap is not None and kind == "offline-activity":
            host, port, user = imap[0].host, imap[0].port, imap[1]
        boxes.append(
            f'[[mailboxes]]\nname = "{kind}"\nkind = "{kind}"\naddress = "{address}"\nhost = "{host}"\n'
            f'port = {port}\nsecurity = "none"\nusername = "{user}"\npassword_env = "INTAKE_TEST_IMAP_PASSWORD"\n'
            "deadline = 2020-08-20\n"
        )
    path.write_text(
        f'[store]\nurl = "{db_url}"\nblob_dir = "blobs"\n\n'
        f'[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\nsecurity = "none"\nsender = "wxb0626@126.com"\n'
        "retry_seconds = 1\n\n" + "\n".join(boxes) + '\n[digest]\nrecipients = ["hosts@example.org"]\n\n' + _roster(),
        encoding="utf-8",
    )
    return path


# -- what the hosts decided, mail by mail -----------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One held-out mail and the host's verdict on it."""

    id: str
    kind: str  # the mailbox
    make: Callable[[Path], bytes]
    status: str
    unit: str | None
    photos: int | None = None  # counted photos (offline-activity)
    activities: int | None = None  # what the digest counts for it (accepted reports)
    says: Sequence[str] = ()  # in the reply
    never: Sequence[str] = ()  # never in the reply
    reasons: Sequence[str] | None = None
    links: Sequence[tuple[str, str | None]] = ()  # net-disk (provider, code)
    cls: str = ""


def tag(cls: str, cases: Sequence[Case]) -> list[Case]:
    return [replace(case, cls=cls) for case in cases]


def photos(count: int, *, first: int = 0, stem: str = "IMG_2020080") -> list[File]:
    return [File(f"{stem}{n + 1}.jpg", jpeg((1600, 1200), shade=first + n), image=True) for n in range(count)]


def offline(
    client: cm.Client,
    subject: str,
    text: str,
    *,
    files: Sequence[File] | None = None,
    sender: str = "ghbgs@163.com",
    name: str = "工会办公室",
    html_body: str | None = None,
) -> Callable[[Path], bytes]:
    def make(_: Path) -> bytes:
        return cm.mail(
            client=client,
            sender=sender,
            name=name,
            subject=subject,
            text=text,
            files=photos(2) if files is None else files,
            html_body=html_body,
        )

    return make


ONE = "7月16日，我会组织机关干部职工开展“网聚职工正能量”网络安全知识讲座，参加职工60人。现将活动照片报上，请查收。"
NO_STATUS = ("未通过", "Traceback", "\\u", "\\x")

# -- reports as documents ---------------------------------------------------------------------------

ENERGY_ROWS = (
    ("6月12日", "西宁特钢会议室", "60人", "网络安全知识讲座"),
    ("7月3日", "盐湖股份职工书屋", "45人", "“清朗网络”主题宣讲"),
    ("8月6日", "桥头铝电培训中心", "80人", "好网民签名承诺"),
)


def _docx_table(_: Path) -> bytes:
    doc = od.docx_report(
        title="青海省能源化工机冶工会“网聚职工正能量·争做中国好网民”线下活动汇总",
        paragraphs=["2020年6月至8月，我会组织所属基层工会开展线下活动，具体情况如下："],
        rows=ENERGY_ROWS,
        photos=4,
    )
    return cm.mail(
        client="coremail",
        sender="qhnyhg@163.com",
        name="能源化工机冶工会",
        subject="青海省能源化工机冶工会线下活动汇总",
        text="王老师您好：\n附件是我会线下活动汇总材料，请查收。",
        files=[File("线下活动汇总（能源化工机冶工会）.docx", doc)],
    )


def _pdf(_: Path) -> bytes:
    pdf = od.pdf_report(
        lines=[
            "西部机场集团青海机场有限公司工会线下活动开展情况",
            "今年6月以来，公司工会共开展线下活动4场，参加职工230余人次。",
            "6月5日  航站楼贵宾厅  网络安全知识讲座",
            "6月30日  机务维修车间  “好网民”宣讲进班组",
        ],
        photos=4,
    )
    return cm.mail(
        client="qq",
        sender="1550093321@qq.com",
        name="青海机场工会",
        subject="西部机场集团青海机场有限公司工会线下活动汇总",
        text="您好，我单位线下活动材料见附件PDF。",
        files=[File("青海机场工会线下活动.pdf", pdf)],
    )


def _xlsx(_: Path) -> bytes:
    rows = (
        ("6月3日", "乐都区职工服务中心", "50人", "网络安全宣讲"),
        ("6月20日", "平安区文化广场", "120人", "好网民签名"),
        ("7月8日", "互助县职工书屋", "40人", "网络文明读书会"),
        ("7月25日", "民和县工业园区", "70人", "网络安全知识竞答"),
        ("8月12日", "化隆县政务大厅", "35人", "防范电信诈骗讲座"),
    )
    table = od.xlsx_table(title="海东市总工会2020年线下活动统计表", rows=rows, total="5场", photos=3)
    return cm.mail(
        client="foxmail",
        sender="hdszgh@163.com",
        name="海东市总工会",
        subject="海东市总工会2020年线下活动汇总表",
        text="附件为我会线下活动统计表及照片。",
        files=[File("海东市总工会线下活动统计表.xlsx", table)],
    )


def _docx_and_photos(_: Path) -> bytes:
    doc = od.docx_report(
        title="省建设工会线下活动情况",
        paragraphs=["7月以来，我会在西宁、海东两地建筑工地开展线下宣传活动2次，发放宣传资料500余份。"],
    )
    return cm.mail(
        client="outlook",
        sender="jsgh@qhjs.gov.cn",
        name="李明",
        subject="转发: 省建设工会线下活动汇总",
        text="\n\n发件人: 李明\n主题: 省建设工会线下活动汇总\n\n说明和照片见附件。",
        files=[File("活动情况说明.docx", doc), *photos(3, stem="DSC0")],
    )


def _docx_nothing(_: Path) -> bytes:
    doc = od.docx_report(
        title="海北州总工会线下活动汇总",
        paragraphs=["6月、7月我会在海晏县、门源县各开展“争做中国好网民”主题宣讲活动一场，参加职工共90人。"],
    )
    return cm.mail(
        client="coremail",
        sender="hbzgh@126.com",
        name="海北州总工会",
        subject="海北州总工会线下活动汇总",
        text="您好！我会线下活动汇总见附件。",
        files=[File("海北州总工会线下活动汇总.docx", doc)],
    )


def _zip(_: Path) -> bytes:
    doc = od.docx_report(
        title="黄南州总工会线下活动汇总",
        paragraphs=["截至8月上旬，全州各级工会共开展线下活动6场，参加职工400余人。"],
        photos=2,
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("黄南州线下活动/黄南州总工会线下活动汇总.docx", doc)
        z.writestr("黄南州线下活动/照片/1.jpg", jpeg((1600, 1200), shade=7))
        z.writestr("黄南州线下活动/照片/2.jpg", jpeg((1600, 1200), shade=8))
    return cm.mail(
        client="qq",
        sender="2280317781@qq.com",
        name="黄南州总工会",
        subject="黄南州总工会线下活动汇总",
        text="材料已打包，请查收。",
        files=[File("黄南州线下活动.zip", out.getvalue())],
    )


def _pptx(_: Path) -> bytes:
    deck = od.pptx_deck(
        title="中国电信青海分公司工会线下活动",
        text="8月7日，公司工会在西宁城中营业厅开展“网络安全进营业厅”线下活动1场，向职工和客户讲解防范网络诈骗知识。",
        photos=3,
    )
    return cm.mail(
        client="foxmail",
        sender="ghzx@qh.chinatelecom.cn",
        name="中国电信青海分公司工会",
        subject="中国电信青海省分公司工会线下活动汇总",
        text="您好，活动情况见附件PPT。",
        files=[File("线下活动.pptx", deck)],
    )


def _docx_items(_: Path) -> bytes:
    doc = od.docx_report(
        title="省教科文卫体工会线下活动汇总",
        paragraphs=[
            "今年以来，我会先后开展了“网络安全进校园”“好网民宣讲进医院”“清朗网络文明签名”等三项活动，参与职工350余人。"
        ],
        photos=3,
    )
    return cm.mail(
        client="coremail",
        sender="jkwwt@163.com",
        name="教科文卫体工会",
        subject="青海省教科文卫体工会线下活动汇总",
        text="附件请查收",
        files=[File("线下活动汇总.docx", doc)],
    )


DOCUMENTS = [
    Case(
        "docx-table-wps",
        "offline-activity",
        _docx_table,
        "accepted",
        "省能源化工机冶工会",
        4,
        3,
        says=("中有 4 张活动照片",),
    ),
    Case(
        "pdf-from-docx",
        "offline-activity",
        _pdf,
        "accepted",
        "西部机场集团青海机场有限公司工会",
        4,
        4,
        says=("中有 4 张活动照片",),
    ),
    Case(
        "xlsx-table-pictures", "offline-activity", _xlsx, "accepted", "海东市总工会", 3, 5, says=("中有 3 张活动照片",)
    ),
    Case("docx-text-photos-attached", "offline-activity", _docx_and_photos, "accepted", "青海省建设工会", 3, 2),
    Case(
        "docx-without-pictures",
        "offline-activity",
        _docx_nothing,
        "rejected",
        "海北州总工会",
        reasons=["邮件中没有活动照片"],
        says=("“海北州总工会线下活动汇总.docx”中没有图片",),
        never=("简要说明",),
    ),
    Case("zip-docx-and-photos", "offline-activity", _zip, "accepted", "黄南州总工会", 4, 6),
    Case(
        "pptx-wps", "offline-activity", _pptx, "accepted", "中国电信青海省分公司工会", 3, 1, says=("中有 3 张活动照片",)
    ),
    Case(
        "docx-three-named-items",
        "offline-activity",
        _docx_items,
        "accepted",
        "省教科文卫体工会",
        3,
        3,
        never=("，来自“线下活动汇总.docx”",),
    ),
]

# -- units as people write them ------------------------------------------------------------------------

NAMES = [
    Case(
        "full-name-of-jkwwt",
        "offline-activity",
        offline("coremail", "关于报送青海省教育科学文化卫生体育工会线下活动汇总的函", ONE),
        "accepted",
        "省教科文卫体工会",
        2,
        1,
    ),
    Case(
        "shuidian-ju-kaizhan",
        "offline-activity",
        offline("foxmail", "中国水利水电第四工程局工会线下活动开展情况汇总", ONE),
        "accepted",
        "中国水利水电第四工程有限公司工会",
        2,
        1,
    ),
    Case(
        "shuidian-sij-short",
        "offline-activity",
        offline("qq", "水电四局线下活动汇总", ONE),
        "accepted",
        "中国水利水电第四工程有限公司工会",
        2,
        1,
    ),
    Case(
        "traditional-fullwidth",
        "offline-activity",
        offline("outlook", "海東市總工會２０２０年線下活動匯總", ONE),
        "accepted",
        "海东市总工会",
        2,
        1,
    ),
    Case(
        "guanyu-huangnan-zizhizhou",
        "offline-activity",
        offline("coremail", "关于报送黄南藏族自治州总工会“网聚职工正能量·争做中国好网民”主题线下活动汇总的函", ONE),
        "accepted",
        "黄南州总工会",
        2,
        1,
    ),
    Case(
        "guowang-without-sheng",
        "offline-activity",
        offline("qq", "国网青海电力公司工会线下活动汇总", ONE),
        "accepted",
        "国网青海省电力公司工会",
        2,
        1,
    ),
    Case(
        "youzheng-fengongsi",
        "offline-activity",
        offline("foxmail", "青海省邮政分公司工会线下活动情况汇总", ONE),
        "accepted",
        "青海省邮政公司工会",
        2,
        1,
    ),
    Case(
        "dianxin-common-name",
        "offline-activity",
        offline("iphone", "青海电信线下活动汇总", ONE),
        "accepted",
        "中国电信青海省分公司工会",
        2,
        1,
    ),
    Case(
        "qingzang-jituan-gongsi",
        "offline-activity",
        offline("outlook", "中国铁路青藏集团公司工会线下活动汇总", ONE),
        "accepted",
        "中国铁路青藏集团有限公司工会",
        2,
        1,
    ),
    Case(
        "jichang-gongsi",
        "offline-activity",
        offline("coremail", "西部机场集团青海机场公司工会线下活动汇总", ONE),
        "accepted",
        "西部机场集团青海机场有限公司工会",
        2,
        1,
    ),
    Case(
        "county-below-haixi",
        "offline-activity",
        offline("qq", "海西州德令哈市总工会线下活动汇总", ONE),
        "rejected",
        None,
        says=("海西州总工会",),
        never=("已收到",),
    ),
    Case(
        "bracketed-huizongbiao",
        "offline-activity",
        offline("foxmail", "【省建设工会】线下活动汇总表", ONE),
        "accepted",
        "青海省建设工会",
        2,
        1,
    ),
    Case(
        "zongjie-not-huizong",
        "offline-activity",
        offline("coremail", "果洛州总工会线下活动总结", ONE),
        "accepted",
        "果洛州总工会",
        2,
        1,
    ),
]
NAMES = tag("unit name", NAMES)

# -- activities counted as written --------------------------------------------------------------------

OUTLOOK_TABLE_TEXT = (
    "王老师：\n我会线下活动情况如下：\n"
    "时间\t地点\t内容\n6月9日\t城中区\t网络安全讲座\n6月23日\t城东区\t好网民演讲比赛\n"
    "7月14日\t城西区\t网络文明签名\n8月4日\t城北区\t防诈骗宣传\n"
)
OUTLOOK_TABLE_HTML = (
    '<html><body lang="ZH-CN"><div class="WordSection1"><p class="MsoNormal">王老师：<o:p></o:p></p>'
    '<p class="MsoNormal">我会线下活动情况如下：<o:p></o:p></p><table class="MsoTableGrid" border="1">'
    "<tr><td>时间</td><td>地点</td><td>内容</td></tr>"
    "<tr><td>6月9日</td><td>城中区</td><td>网络安全讲座</td></tr>"
    "<tr><td>6月23日</td><td>城东区</td><td>好网民演讲比赛</td></tr>"
    "<tr><td>7月14日</td><td>城西区</td><td>网络文明签名</td></tr>"
    "<tr><td>8月4日</td><td>城北区</td><td>防诈骗宣传</td></tr></table>"
    '<p class="MsoNormal"><o:p>&nbsp;</o:p></p></div></body></html>'
)

COUNTS = [
    Case(
        "xianhou-sanxiang",
        "offline-activity",
        offline(
            "coremail",
            "西宁市总工会线下活动汇总",
            "6月以来，我会先后开展了“网络安全进企业”“好网民宣讲进班组”“清朗网络签名”等三项活动，参与职工500余人。",
        ),
        "accepted",
        "西宁市总工会",
        2,
        3,
    ),
    Case(
        "shi-yu-chang",
        "offline-activity",
        offline("qq", "海南州总工会线下活动汇总", "今年以来，全州各级工会累计举办线下活动十余场，覆盖职工2000余人次。"),
        "accepted",
        "海南州总工会",
        2,
        10,
    ),
    Case(
        "outlook-html-table",
        "offline-activity",
        offline("outlook", "答复: 海西州总工会线下活动汇总", OUTLOOK_TABLE_TEXT, html_body=OUTLOOK_TABLE_HTML),
        "accepted",
        "海西州总工会",
        2,
        4,
    ),
    Case(
        "liang-ci",
        "offline-activity",
        offline("foxmail", "玉树州总工会线下活动汇总", "截至目前，我会共组织线下活动两次，参与职工150人。"),
        "accepted",
        "玉树州总工会",
        2,
        2,
    ),
    Case(
        "huodong-yi-er-san",
        "offline-activity",
        offline(
            "iphone",
            "果洛州总工会线下活动汇总",
            "活动一：7月2日在玛沁县开展网络安全宣讲；活动二：7月20日在班玛县举办好网民演讲比赛；活动三：8月8日在达日县开展网络文明签名。",
        ),
        "accepted",
        "果洛州总工会",
        2,
        3,
    ),
    Case(
        "changci-xianxia-xianshang",
        "offline-activity",
        offline("coremail", "省能源化工机冶工会线下活动汇总", "我会开展“好网民”主题活动8场次，其中线下5场、线上3场。"),
        "accepted",
        "省能源化工机冶工会",
        2,
        5,
    ),
    Case(
        "renci-is-no-count",
        "offline-activity",
        offline(
            "qq",
            "中国电信青海省分公司工会线下活动汇总",
            "6月28日，组织开展“网聚职工正能量”主题宣讲活动，参加职工260余人次，发放宣传资料3000份。",
        ),
        "accepted",
        "中国电信青海省分公司工会",
        2,
        1,
    ),
    Case(
        "shi-er-changci",
        "offline-activity",
        offline("outlook", "西宁市总工会线下活动汇总", "7至8月共举办线下宣讲、竞赛、观影等活动12场次。"),
        "accepted",
        "西宁市总工会",
        2,
        12,
    ),
    Case(
        "photo-count-no-activity-count",
        "offline-activity",
        offline(
            "foxmail",
            "海北州总工会线下活动汇总",
            "7月15日，我会组织开展网络安全宣讲。现报送活动照片3张。",
            files=photos(3),
        ),
        "accepted",
        "海北州总工会",
        3,
        1,
    ),
    Case(
        "by-kind-breakdown",
        "offline-activity",
        offline(
            "coremail",
            "青海省建设工会线下活动汇总",
            "开展了以“清朗网络”为主题的线下活动，具体为：网络安全讲座1场、主题演讲比赛1场、知识竞赛2场。",
        ),
        "accepted",
        "青海省建设工会",
        2,
        4,
    ),
]
COUNTS = tag("activity count", COUNTS)

# -- net-disk links ---------------------------------------------------------------------------------------

VIDEO_TEXT = "现报送我单位微视频作品一部，文件较大，已上传网盘，请下载。联系人：马晓东 13897700000"


def share(client: cm.Client, subject: str, text: str, *, html_body: str | None = None) -> Callable[[Path], bytes]:
    def make(_: Path) -> bytes:
        return cm.mail(
            client=client, sender="zgh2020@163.com", name="工会", subject=subject, text=text, html_body=html_body
        )

    return make


LINKS = [
    Case(
        "baidu-2020-share",
        "micro-video",
        share(
            "coremail",
            "海东市总工会《守护》",
            VIDEO_TEXT + "\n链接：https://pan.baidu.com/s/1Qw3rTy7UiOpAsDfGhJkL9z \n提取码：m4n8 \n"
            "复制这段内容后打开百度网盘手机App，操作更方便哦",
        ),
        "accepted",
        "海东市总工会",
        links=[("百度网盘", "m4n8")],
        says=("百度网盘分享链接，提取码 m4n8 已记录",),
        never=("超大附件", "文件名未知"),
    ),
    Case(
        "aliyun-no-code",
        "micro-film",
        share(
            "qq",
            "黄南州总工会《匠心》",
            "微电影《匠心》请通过以下链接下载：\n「匠心.mp4」https://www.aliyundrive.com/s/Hk3mQp9ZtWx 点击链接保存，"
            "或者复制本段内容，打开「阿里云盘」APP ，无需下载极速在线查看，视频原画倍速播放。",
        ),
        "accepted",
        "黄南州总工会",
        links=[("阿里云盘", None)],
        says=("阿里云盘：匠心.mp4，未写提取码",),
        never=("超大附件",),
    ),
    Case(
        "quark-recitation",
        "recitation",
        share(
            "foxmail",
            "省能源化工机冶工会《劳动者赞歌》",
            "诵读作品已传夸克网盘：\n我用夸克网盘分享了「诵读《劳动者赞歌》.mp4」，点击链接即可保存。打开「夸克APP」，无需下载在线播放视频，"
            "畅享原画5倍速，支持电视投屏。\n链接：https://pan.quark.cn/s/7c2e9a0b5d1f\n提取码：Rk8P",
        ),
        "accepted",
        "省能源化工机冶工会",
        links=[("夸克网盘", "Rk8P")],
        says=("Rk8P",),
    ),
    Case(
        "tianyi-song",
        "song",
        share(
            "outlook",
            "中国铁路青藏集团有限公司工会《天路工人之歌》",
            "歌曲小样文件在天翼云盘：https://cloud.189.cn/t/3qYrEfUvMj6n（访问码：8zq1）",
        ),
        "accepted",
        "中国铁路青藏集团有限公司工会",
        links=[("天翼云盘", "8zq1")],
    ),
    Case(
        "lanzous-lesson",
        "micro-lesson",
        share(
            "coremail",
            "省教科文卫体工会《网络安全第一课》",
            "微课视频已上传：\nhttps://wwa.lanzous.com/i9Xk2ab3cde\n密码:6h2k",
        ),
        "accepted",
        "省教科文卫体工会",
        links=[("蓝奏云", "6h2k")],
    ),
    Case(
        "baidu-in-qq-html",
        "micro-video",
        share(
            "qq",
            "西宁市总工会《夏都的守护者》",
            "作品链接见下，请查收。",
            html_body='<div>作品链接见下，请查收。</div><div><a href="https://pan.baidu.com/s/1tYuIoPaSdFgHjK?pwd=t5r4">'
            "https://pan.baidu.com/s/1tYuIoPaSdFgHjK?pwd=t5r4</a></div><div>提取码：t5r4</div>",
        ),
        "accepted",
        "西宁市总工会",
        links=[("百度网盘", "t5r4")],
    ),
    Case(
        "baidu-old-mima",
        "micro-film",
        share("iphone", "海南州总工会《草原上的劳动者》", "链接: https://pan.baidu.com/s/1ZxCvBnMqWeRtY  密码: 9ijk"),
        "accepted",
        "海南州总工会",
        links=[("百度网盘", "9ijk")],
    ),
]
LINKS = tag("net-disk link", LINKS)

# -- platforms ---------------------------------------------------------------------------------------------


def platform(client: cm.Client, subject: str, text: str, files: Sequence[File] = ()) -> Callable[[Path], bytes]:
    def make(_: Path) -> bytes:
        return cm.mail(
            client=client,
            sender="gh@163.com",
            name="工会",
            subject=subject,
            text=text,
            files=files,
            to="402598801@qq.com",
        )

    return make


YUSHU_INTRO = od.docx_intro(
    title="“玉树工会”抖音号介绍",
    paragraphs=[
        "玉树州总工会于2019年开通“玉树工会”抖音号，发布劳模故事、技能培训、维权服务等短视频300余条，"
        "粉丝2.1万人，为全州职工提供线上普惠服务。"
    ],
)

PLATFORMS = [
    Case(
        "subject-quoted-no-book",
        "service-platform",
        platform(
            "coremail",
            "海北州总工会“海北工会”微信公众号",
            "推荐我州工会微信公众号参加普惠服务优秀平台征集，该公众号开设会员服务、法律援助、职工书屋等栏目。",
        ),
        "accepted",
        "海北州总工会",
        says=("海北工会",),
    ),
    Case(
        "body-unquoted-app",
        "service-platform",
        platform(
            "qq",
            "海东市总工会《普惠服务平台推荐》",
            "我单位推荐的平台是海东工会APP，2019年上线，提供入会、帮扶、法律咨询等服务。",
        ),
        "accepted",
        "海东市总工会",
        says=("海东工会",),
    ),
    Case(
        "form-fields",
        "service-platform",
        platform(
            "foxmail",
            "果洛州总工会《果洛职工之家》",
            "平台名称：果洛职工之家\n平台类型：微信服务号\n简介：2018年开通，设有入会申请、困难帮扶、法律援助、金秋助学等服务。",
        ),
        "accepted",
        "果洛州总工会",
        says=("果洛职工之家",),
    ),
    Case(
        "douyin-docx-only",
        "service-platform",
        platform(
            "coremail",
            "玉树州总工会《“玉树工会”抖音号》",
            "平台材料见附件，请审核。",
            [File("玉树工会抖音号介绍.docx", YUSHU_INTRO)],
        ),
        "accepted",
        "玉树州总工会",
        says=("玉树工会",),
    ),
    Case(
        "website-with-url",
        "service-platform",
        platform(
            "outlook",
            "青海省建设工会《青海建设职工网》",
            "青海建设职工网（http://www.qhjsgh.org.cn）是我会2018年建成的门户网站，设有技能培训、法律援助、困难帮扶等栏目。",
        ),
        "accepted",
        "青海省建设工会",
        says=("青海建设职工网",),
    ),
    Case(
        "miniprogram-plus-subject",
        "service-platform",
        platform(
            "iphone",
            "西宁市总工会+西宁智慧工会小程序",
            "“西宁智慧工会”小程序上线以来，为全市职工提供入会、积分兑换、法律援助等服务，注册职工12万人。",
        ),
        "accepted",
        "西宁市总工会",
        says=("西宁智慧工会",),
    ),
]
PLATFORMS = tag("platform", PLATFORMS)

# -- media and the notice's guidelines -------------------------------------------------------------------


def work(
    client: cm.Client, kind: str, subject: str, make_file: Callable[[Path], Path], text: str = "现报送作品，请查收。"
) -> Callable[[Path], bytes]:
    def make(tmp_path: Path) -> bytes:
        path = make_file(tmp_path)
        return cm.mail(
            client=client,
            sender="zgh@163.com",
            name="工会",
            subject=subject,
            text=text,
            files=[File(path.name, path.read_bytes())],
            to=BOXES[kind],
        )

    return make


def _rebranded(tmp_path: Path) -> Path:
    plain = mf.make_video(tmp_path, name="plain.mp4", seconds=240, width=1280, height=720)
    return mf.rebrand_mp4(plain, tmp_path / "C0012.MP4", brand=b"MSNV")


MEDIA = [
    Case(
        "recitation-9min",
        "recitation",
        work(
            "coremail",
            "recitation",
            "省能源化工机冶工会《劳动者赞歌》",
            lambda p: mf.make_video(p, name="劳动者赞歌.mp4", seconds=552),
        ),
        "accepted",
        "省能源化工机冶工会",
        says=("通知建议 3—8分钟",),
    ),
    Case(
        "recitation-2min30",
        "recitation",
        work(
            "qq",
            "recitation",
            "海南州总工会《我和我的祖国》",
            lambda p: mf.make_video(p, name="我和我的祖国.mp4", seconds=150),
        ),
        "accepted",
        "海南州总工会",
        says=("2分30秒", "通知建议 3—8分钟"),
    ),
    Case(
        "micro-video-5min40",
        "micro-video",
        work(
            "foxmail",
            "micro-video",
            "海东市总工会《坚守》",
            lambda p: mf.make_video(p, name="坚守.mp4", seconds=340, width=1280, height=720),
        ),
        "rejected",
        "海东市总工会",
        says=("5分40秒", "3—5分钟"),
    ),
    Case(
        "song-5min30",
        "song",
        work(
            "coremail",
            "song",
            "中国铁路青藏集团有限公司工会《雪域天路》",
            lambda p: mf.make_audio(p, name="雪域天路.m4a", seconds=330),
        ),
        "rejected",
        "中国铁路青藏集团有限公司工会",
        says=("5分30秒",),
    ),
    Case(
        "micro-lesson-4min",
        "micro-lesson",
        work(
            "outlook",
            "micro-lesson",
            "省教科文卫体工会《防范网络诈骗》",
            lambda p: mf.make_video(p, name="防范网络诈骗.mp4", seconds=240, width=1280, height=720),
        ),
        "accepted",
        "省教科文卫体工会",
    ),
    Case(
        "sony-msnv-brand",
        "micro-video",
        work("qq", "micro-video", "国网青海省电力公司工会《光明使者》", _rebranded),
        "accepted",
        "国网青海省电力公司工会",
        never=("不是视频",),
    ),
    Case(
        "song-3min30",
        "song",
        work(
            "iphone",
            "song",
            "中国铁路青藏集团有限公司工会《劳动者之歌》",
            lambda p: mf.make_audio(p, name="劳动者之歌.m4a", seconds=210),
        ),
        "accepted",
        "中国铁路青藏集团有限公司工会",
    ),
]
MEDIA = tag("media guideline", MEDIA)
DOCUMENTS = tag("document", DOCUMENTS)

CASES = [*DOCUMENTS, *NAMES, *COUNTS, *LINKS, *PLATFORMS, *MEDIA]


# -- running them ------------------------------------------------------------------------------------------


def _cli(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code in (0, 3), (result.output, result.exception)
    return result.stdout


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def _messages(config: Path) -> list[dict[str, object]]:
    data = json.loads(_cli(config, "messages", "--json"))
    assert isinstance(data, list)
    return sorted(data, key=lambda m: int(m["id"]))


def _import(config: Path, tmp_path: Path, kind: str, raw: bytes, name: str) -> None:
    eml = tmp_path / f"{name}.eml"
    eml.write_bytes(raw)
    _cli(config, "import", "--mailbox", kind, str(eml))


def _activities(config: Path, message_id: object) -> int:
    out = _cli(config, "count", str(message_id))
    found = re.search(r"counts (\d+) activit", out)
    assert found, out
    said = re.search(r"写明“(.*)”", out)
    assert said is None or "“" not in said.group(1), out  # a quotation inside the quoted words is ‘…’
    return int(found.group(1))


def _check(case: Case, config: Path, msg: dict[str, object], reply: EmailMessage | None) -> None:
    assert (msg["status"], msg["unit"]) == (case.status, case.unit), (msg["reasons"], msg["remarks"])
    if case.reasons is not None:
        assert msg["reasons"] == list(case.reasons)
    attachments = msg["attachments"]
    assert isinstance(attachments, list)
    if case.photos is not None:
        assert sum(1 for a in attachments if a["kind"] == "photo" and a["counted"]) == case.photos
    if case.activities is not None:
        assert _activities(config, msg["id"]) == case.activities
    links = msg["large_attachment_links"]
    assert isinstance(links, list)
    assert [(link["provider"], link["code"]) for link in links if link.get("kind") == "netdisk"] == list(case.links)
    assert reply is not None
    text = _text(reply)
    subject = str(reply["Subject"])
    for words in case.says:
        assert words in text, text
    for words in case.never:
        assert words not in text, text
    if case.status == "accepted":
        assert "（已收到）" in subject and "未通过" not in subject and "未通过" not in text, (subject, text)
        for bad in NO_STATUS[1:]:
            assert bad not in text
    else:
        assert "（已收到）" not in subject
    if case.unit is not None:
        assert case.unit in text


@pytest.mark.parametrize("case", CASES, ids=[f"{c.cls}:{c.id}" for c in CASES])
def test_held_out_mail_is_judged_as_a_host_would(
    case: Case, tmp_path: Path, db_url: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", "unused")
    config = write_config(tmp_path / "config.toml", db_url=db_url, smtp=smtp)
    _import(config, tmp_path, case.kind, case.make(tmp_path), case.id)
    (msg,) = _messages(config)
    (captured,) = smtp.wait_for(1)
    _check(case, config, msg, captured.message())


# -- answers to our own replies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A unit answering the reply it got: what it writes, and what a host expects."""

    id: str
    client: cm.Client
    text: str
    first_has_photos: bool = True  # the first mail was complete (acknowledged) or had no photo (rejected)
    files: int = 0
    threaded: bool = True
    status: str = "conversation"
    remark: str | None = None
    answered: bool = False  # whether the answer itself gets a reply
    says: Sequence[str] = field(default_factory=tuple)


ANSWERS = [
    Answer("qq-shoudao", "qq", "收到"),
    Answer("coremail-haode", "coremail", "好的，谢谢！"),
    Answer("outlook-yiyue", "outlook", "已阅"),
    Answer("foxmail-question", "foxmail", "请问照片需要多大？", remark="来信：请问照片需要多大？"),
    Answer("iphone-thanks", "iphone", "收到，谢谢"),
    Answer(
        "outlook-photos-after-rejection",
        "outlook",
        "您好，现补发我会线下活动照片3张，请查收。",
        first_has_photos=False,
        files=3,
        status="accepted",
        answered=True,
        says=("补发1.jpg", "补发3.jpg"),
    ),
    Answer("qq-unthreaded-quote", "qq", "已收到回执，谢谢", threaded=False),
    Answer(
        "coremail-question-after-rejection",
        "coremail",
        "请问标题应该怎么写？",
        first_has_photos=False,
        remark="来信：请问标题应该怎么写？",
    ),
]


@pytest.mark.parametrize("answer", ANSWERS, ids=[f"reply to us:{a.id}" for a in ANSWERS])
def test_answers_to_our_replies_are_judged_as_a_host_would(
    answer: Answer, tmp_path: Path, db_url: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", "unused")
    config = write_config(tmp_path / "config.toml", db_url=db_url, smtp=smtp)
    first = cm.mail(
        client=answer.client,
        sender="hxzgh@163.com",
        name="海西州总工会",
        subject="海西州总工会线下活动汇总",
        text=ONE,
        files=photos(2, first=4) if answer.first_has_photos else [],
    )
    _import(config, tmp_path, "offline-activity", first, "first")
    (ours,) = smtp.wait_for(1)
    reply = ours.message()
    smtp.clear()
    files = photos(answer.files, first=9, stem="补发")
    _import(
        config,
        tmp_path,
        "offline-activity",
        cm.answer(reply, client=answer.client, text=answer.text, files=files, threaded=answer.threaded),
        "answer",
    )
    first_msg, second = _messages(config)
    assert first_msg["status"] == ("accepted" if answer.first_has_photos else "rejected")
    assert second["status"] == answer.status, (second["reasons"], second["remarks"])
    assert second["unit"] == "海西州总工会"
    if answer.remark is not None:
        assert answer.remark in second["remarks"]
    if answer.answered:
        (captured,) = smtp.wait_for(1)
        subject = str(captured.message()["Subject"])
        assert subject.count("（") == 1 and "（已收到）" in subject, subject
        text = _text(captured.message())
        for words in answer.says:
            assert words in text, text
        assert "未通过" not in text, text  # the subject it quotes is the unit's, without our old verdict
    else:
        assert second["reply"] is None
        assert smtp.messages == []


# -- a few through Dovecot, as the service polls them ------------------------------------------------------


@pytest.mark.parametrize("case", [DOCUMENTS[0], NAMES[3], COUNTS[1]], ids=lambda c: f"dovecot:{c.id}")
def test_held_out_mail_through_dovecot(
    case: Case,
    tmp_path: Path,
    db_url: str,
    smtp: SmtpSink,
    dovecot: Dovecot,
    imap_user: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", imap_user[1])
    config = write_config(tmp_path / "config.toml", db_url=db_url, smtp=smtp, imap=(dovecot, imap_user[0]))
    dovecot.append(imap_user[0], case.make(tmp_path))
    _cli(config, "poll", "--once", "--mailbox", "offline-activity")
    (msg,) = _messages(config)
    (captured,) = smtp.wait_for(1)
    _check(case, config, msg, captured.message())
