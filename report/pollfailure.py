"""What a failed poll means to the hosts: its class, from the exception recorded, in one Chinese sentence.

The poller records a failure as `TypeName: detail` (store.errors.one_line); the class is read from
that type name, never from the English detail. The technical line stays for the admins.
"""

from __future__ import annotations

import builtins
import enum
import socket
import ssl

from campaign.settings import MissingSecret


class PollFailure(enum.Enum):
    LOGIN = "login"
    CONNECT = "connect"
    SECRET = "secret"
    OTHER = "other"


def _network_error_names() -> frozenset[str]:
    """The network's and TLS's errors by name (a file error such as PermissionError is not among them)."""
    network = (ConnectionError, TimeoutError, socket.gaierror, socket.herror, ssl.SSLError)
    found = {
        obj.__name__
        for module in (builtins, socket, ssl)
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, network)
    }
    return frozenset(found | {"OSError"})  # a bare OSError from a socket (no route, host down)


# the exceptions a failed connection raises: the network's and TLS's, imaplib's and imapclient's
# abort, and the poller's own LinkBroken (a cut it gave up retrying)
_CONNECT = _network_error_names() | {"abort", "IMAPClientAbortError", "LinkBroken"}
_LOGIN = frozenset({"LoginError"})  # imapclient.exceptions.LoginError: the server refused the credentials
_SECRET = frozenset({MissingSecret.__name__})

SENTENCES = {
    PollFailure.LOGIN: (
        "登录失败：邮箱密码或授权码有误。请管理员登录邮箱网页版核对（或重新生成）授权码，并更新服务配置中的密码。"
    ),
    PollFailure.CONNECT: (
        "无法连接邮件服务器：网络或邮件服务器暂时不可用，服务会自动重试；如持续出现，请联系管理员检查网络和服务器地址。"
    ),
    PollFailure.SECRET: "邮箱密码未配置：服务读不到这个邮箱的密码或授权码，请联系管理员在服务配置中设置。",
    PollFailure.OTHER: "其他错误：收信未能完成，请联系管理员查看（intake status）。",
}


def classify(recorded: str) -> PollFailure:
    """The class of a failure recorded as `TypeName: detail`."""
    name = recorded.split(":", 1)[0].strip().rsplit(".", 1)[-1]
    if name in _LOGIN:
        return PollFailure.LOGIN
    if name in _SECRET:
        return PollFailure.SECRET
    if name in _CONNECT:
        return PollFailure.CONNECT
    return PollFailure.OTHER


def sentence(recorded: str) -> str:
    """The hosts' sentence for a recorded failure: what happened and whom to ask."""
    return SENTENCES[classify(recorded)]
