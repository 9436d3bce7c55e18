"""Mail an earlier store had already stored: judged and recorded again, never answered again.

When a database is lost and a new one is started over the same blob folder (`intake db upgrade
--new-store`), every mailbox is read from its start again. A message whose raw bytes were stored
before the new database began was fetched by the lost store, which may have answered it: its reply is
written for the hosts but held. Mail that came after (or that the lost store never fetched) is
answered as usual.
"""

from __future__ import annotations

from store.blobs import BlobStore

EARLIER_STORE = "此邮件在当前数据库启用（intake db upgrade --new-store）之前已收取过，当时可能已经回复，不再自动回复"


def earlier_store_hold(blobs: BlobStore, raw_sha256: str | None) -> str | None:
    """Why msg's reply is held because an earlier store had the same raw message, or None."""
    since = blobs.new_store_since()
    if since is None or raw_sha256 is None:
        return None
    return EARLIER_STORE if blobs.stored_before(raw_sha256, since) else None
