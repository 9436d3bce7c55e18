"""Who may see and do what on the workbench: named predicates, checked by every view, never in templates.

- A host (承办单位) sees and acts on its own collections only; the offline-activity reports (the
  mailbox `offline-activity`) and the units' figures against Annex 1 are visible to a host only when
  it was given that kind (`--collection offline-activity`, e.g. the office's staff who are no province).
- The province (省总工会) sees everything, may do what any host may, and alone makes the final
  recommendation per category and downloads the recommendation's package.
- A file is served only to someone who may see the message it came with.
"""

from __future__ import annotations

from collections.abc import Iterable

from campaign.notice import MailboxKind
from intake.accounts import Account
from store.enums import Role


def visible_kinds(account: Account, configured: Iterable[MailboxKind]) -> tuple[MailboxKind, ...]:
    """The configured mailbox kinds the account sees, in the notice's order."""
    present = set(configured)
    return tuple(k for k in MailboxKind if k in present and can_view(account, k))


def can_view(account: Account, kind: MailboxKind) -> bool:
    """See a collection's (or the reports') messages, their files and history."""
    return account.role is Role.PROVINCE or kind in account.collections


def can_decide(account: Account, kind: MailboxKind) -> bool:
    """Overrule the automatic verdict of a message of this kind."""
    return can_view(account, kind)


def can_select(account: Account, kind: MailboxKind) -> bool:
    """Shortlist (初选) and select (推荐) works of a collection; reports are no works."""
    return kind is not MailboxKind.OFFLINE_ACTIVITY and can_view(account, kind)


def can_recommend(account: Account) -> bool:
    """The final recommendation upward, per category (and its package)."""
    return account.role is Role.PROVINCE


def can_see_units(account: Account) -> bool:
    """Each unit's activity reports against its Annex 1 quota."""
    return can_view(account, MailboxKind.OFFLINE_ACTIVITY)
