"""The hosts' sentence for each class of poll failure, read from the failure as the poller records it."""

from __future__ import annotations

import socket
import ssl

import pytest
from imapclient.exceptions import LoginError

from campaign.settings import MissingSecret
from ingest.fetch.imap import LinkBroken
from report.pollfailure import SENTENCES, PollFailure, classify, sentence
from store.errors import one_line


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (LoginError("b'[AUTHENTICATIONFAILED] Authentication failed.'"), PollFailure.LOGIN),
        (MissingSecret("password_env: the environment variable X is not set"), PollFailure.SECRET),
        (ConnectionRefusedError(111, "Connection refused"), PollFailure.CONNECT),
        (socket.gaierror(-2, "Name or service not known"), PollFailure.CONNECT),
        (TimeoutError("timed out"), PollFailure.CONNECT),
        (ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED]"), PollFailure.CONNECT),
        (LinkBroken("ConnectionResetError: reset"), PollFailure.CONNECT),
        (ValueError("unexpected"), PollFailure.OTHER),
    ],
)
def test_a_recorded_failure_is_classed_by_its_exception(exc: Exception, kind: PollFailure) -> None:
    assert classify(one_line(exc)) is kind


def test_the_hosts_read_chinese_with_whom_to_ask() -> None:
    assert sentence(one_line(LoginError("b'[AUTHENTICATIONFAILED]'"))).startswith("登录失败：邮箱密码或授权码有误")
    assert sentence(one_line(MissingSecret("x"))).startswith("邮箱密码未配置")
    assert sentence(one_line(ConnectionRefusedError(111, "refused"))).startswith("无法连接邮件服务器")
    assert sentence(one_line(KeyError("x"))).startswith("其他错误")
    for text in SENTENCES.values():  # each says whom to ask, in Chinese
        assert "管理员" in text and not any("a" <= c.lower() <= "z" for c in text.split("（")[0])
