"""How many offline activities an accepted report stands for: the rule, and each report's count with why.

The rule (documented in the README and in every digest):

1. A report counts only once it is accepted; rejected, failed and ignored mail counts 0.
2. An admin's correction (`intake count ID N`, kept in Message.activity_count) wins over everything.
3. Otherwise a report counts the number of activities its description states, e.g. “开展线下活动3场”,
   “共开展两场活动”, “活动3次”; a stated total (“共/合计/累计…”, or a number followed by “其中…”)
   is taken as it is, several separate statements are added up; online activities are left out (a
   total less the online part its breakdown names); an enumeration (一是…一场；二是…一场) is counted
   item by item (see ingest.activities for the whole reading). The text of the attached report
   documents (Word, WPS, PDF, Excel, PowerPoint) is read when the body states nothing, the subject
   when neither does (“西宁市总工会线下活动汇总（3场）”). Ordinals (“第3场”) and a lone “一场/一次” (often
   just a turn of phrase) are not statements.
4. A supplement (a report answering our acknowledgement of the same unit's accepted report, see
   ingest.supplement) counts only the number its own words state, else 0, and is no report of its own.
5. Otherwise, and when the stated number is implausible (more than MAX_PLAUSIBLE in one report),
   the report counts 1; an implausible number is flagged for an admin to check.

The stated number is read when the report is judged (ingest.activities) and kept in the
activity_counts table; this module only reads it: making a digest or an export writes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.enums import CountSource, MessageStatus
from store.models import ActivityCount, Message

# where the words that state a number stand, as the hosts read it (None: read before this was kept)
WHERE = {
    CountSource.BODY: "正文中",
    CountSource.DOCUMENT: "附件文档中",
    CountSource.SUBJECT: "标题中",
    CountSource.SUPPLEMENT: "补充材料中",
    None: "说明中",
}
MAX_PLAUSIBLE = 30  # a single report stating more is checked by an admin (the province's target is 50)

RULE_TEXT = (
    "线下活动按通过审核的“单位+线下活动汇总”邮件计：每份计 1 场。",
    "说明（正文；正文未写时看附件文档，都未写时看标题）写明场次的按写明的计，"
    "如“开展线下活动3场”计 3 场、“共开展两场活动”计 2 场；"
    "分别写明的相加，写明“共…场”或“…场，其中…”的按总数计；线上活动不计（“共5场，其中线上1场”计 4 场）；"
    "分条列举的（一是…一场；二是…一场）逐条相加，“第一场…第二场…”每条计 1 场。",
    f"一份报告写明超过 {MAX_PLAUSIBLE} 场的暂按 1 场计，请管理员核对；被退回、处理失败的邮件不计。",
    "对本服务确认回复的答复（补充材料）不另算一份报告，也不另计场次，除非其中写明场次。",
    "管理员可用 intake count 邮件ID 场次 更正（intake count 邮件ID --auto 恢复按规则计）。",
)


class Basis(enum.StrEnum):
    """Why a report counts what it counts."""

    NOT_ACCEPTED = "not-accepted"
    DEFAULT = "default"
    STATED = "stated"
    IMPLAUSIBLE = "implausible"
    CORRECTED = "corrected"


@dataclass(frozen=True, kw_only=True)
class Count:
    """What one report counts, and why."""

    activities: int
    basis: Basis
    phrase: str | None = None
    stated: int | None = None
    note: str | None = None
    source: CountSource | None = None  # where the number was read

    @property
    def explanation(self) -> str:
        """The reason in Chinese, as the digest and the export show it."""
        if self.basis is Basis.NOT_ACCEPTED:
            return "未通过审核，不计入"
        if self.basis is Basis.CORRECTED:
            return f"管理员更正为 {self.activities} 场" + (f"（{self.note}）" if self.note else "")
        where = WHERE.get(self.source, "说明中")
        if self.supplement and self.basis is Basis.STATED:  # the phrase names the report and what it states
            return self.phrase or "补充此前报告的材料，不另计场次"
        if self.basis is Basis.STATED:
            return f"{where}写明“{self.phrase}”"
        if self.basis is Basis.IMPLAUSIBLE:
            return f"{where}写“{self.phrase}”，数字异常，暂按 1 场计，请核对"
        if self.source is CountSource.DEFAULT:
            return "正文、附件文档和标题中都未写场次，按 1 场计"
        return "说明中未写场次，按 1 场计"

    @property
    def supplement(self) -> bool:
        """More material for an accepted report of the same unit: not a report of its own."""
        return self.source is CountSource.SUPPLEMENT

    @property
    def needs_check(self) -> bool:
        return self.basis is Basis.IMPLAUSIBLE


def count_of(
    *,
    accepted: bool,
    corrected: int | None,
    stated_number: int | None,
    phrase: str | None,
    note: str | None = None,
    source: CountSource | None = None,
) -> Count:
    """Apply the rule to what is known of one report."""
    if corrected is not None:
        return Count(
            activities=corrected, basis=Basis.CORRECTED, phrase=phrase, stated=stated_number, note=note, source=source
        )
    if not accepted:
        return Count(activities=0, basis=Basis.NOT_ACCEPTED, phrase=phrase, stated=stated_number, source=source)
    if stated_number is None:
        return Count(activities=1, basis=Basis.DEFAULT, source=source)
    if stated_number > MAX_PLAUSIBLE:
        return Count(activities=1, basis=Basis.IMPLAUSIBLE, phrase=phrase, stated=stated_number, source=source)
    return Count(activities=stated_number, basis=Basis.STATED, phrase=phrase, stated=stated_number, source=source)


def counts(session: Session, ids: Collection[int]) -> dict[int, Count]:
    """The count of each of the given messages (as recorded when each report was judged)."""
    if not ids:
        return {}
    rows = session.execute(
        select(
            Message.id,
            Message.status,
            Message.activity_count,
            ActivityCount.stated,
            ActivityCount.phrase,
            ActivityCount.note,
            ActivityCount.source,
        )
        .outerjoin(ActivityCount, ActivityCount.message_id == Message.id)
        .where(Message.id.in_(list(ids)))
    ).all()
    return {
        msg_id: count_of(
            accepted=status is MessageStatus.ACCEPTED,
            corrected=corrected,
            stated_number=number,
            phrase=phrase,
            note=note,
            source=source,
        )
        for msg_id, status, corrected, number, phrase, note, source in rows
    }
