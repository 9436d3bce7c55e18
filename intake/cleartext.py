"""Cleartext IMAP or SMTP only towards this machine, unless the configuration says it is intended.

`security = "none"` sends the login and password unencrypted. Towards a loopback address (127.0.0.0/8,
::1, `localhost`) that never leaves the machine; towards any other host it is refused as a configuration
error naming the key, unless the same table says `allow_cleartext = true` (a mail server on a private
network, a container beside the service). Host names are not resolved: only the written host counts.
"""

from __future__ import annotations

import ipaddress

from campaign.settings import ConfigError
from intake.tables import Table


def is_loopback(host: str) -> bool:
    """Whether host, as written, is this machine."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_cleartext(table: Table, *, host: str, security: str) -> None:
    """ConfigError when table's security is "none" towards a host that is not loopback and not allowed."""
    allowed = table._get("allow_cleartext", bool, "true or false", False)
    if security != "none" or allowed or is_loopback(host):
        return
    raise ConfigError(
        f'{table.key("security")}: "none" would send the password unencrypted to {host}, which is not this '
        f'machine; use "ssl" or "starttls", or set {table.key("allow_cleartext")} = true if that is intended'
    )
