"""How an attempt reaches its receiver: https verified for the registered name, the checked
address and no other (DNS rebinding), no redirects."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
import trustme
from standardwebhooks import Webhook

from svc_notify.sender import Sender
from svc_notify.webhook_settings import WebhookSettings
from svc_notify.webhooks import new_secret
from tests.support.infra import eventually
from tests.support.svc_notify.receiver import Answer, Receiver, receiving
from tests.svc_notify.conftest import FireReminder, StartNotify, new_user

PAYLOAD: dict[str, Any] = {"type": "reminder.fired", "timestamp": None, "data": {}}


async def test_https_is_verified_for_the_registered_name(
    start_notify: StartNotify, fire_reminder: FireReminder, tmp_path: Path
) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    # The certificate names only `localhost`; the connection goes to 127.0.0.1, so only a
    # client sending `localhost` as the TLS server name (SNI) can verify it.
    async with receiving(tls=ca, directory=tmp_path) as receiver:
        assert receiver.url.startswith("https://localhost:")
        notify = await start_notify(TODO_WEBHOOK_CA_FILE=str(ca_file))
        user = new_user()
        created = await notify.create_webhook(user, receiver.url)
        await fire_reminder(user)
        await eventually(lambda: len(receiver.received) == 1, within=60.0)
        request = receiver.received[0]
        assert request.headers["host"] == receiver.url.split("/")[2]
        Webhook(created.secret).verify(request.body, request.headers)

        async with Sender(WebhookSettings(allow_private=True)) as untrusting:
            outcome = await untrusting.send(receiver.url, created.secret, "msg_x", PAYLOAD)
        assert outcome.status_code == 0
        assert "CERTIFICATE_VERIFY_FAILED" in outcome.error
        assert len(receiver.received) == 1


async def test_the_request_goes_to_the_address_that_was_checked(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that resolves to an allowed address and then elsewhere (DNS rebinding): each
    attempt looks it up once and connects to what it checked."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    lookups: list[str] = []
    answers = ["127.0.0.1", "127.0.0.2"]  # nothing listens on the second

    async def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return await real(host, port, *args, **kwargs)
        lookups.append(host)
        answer = answers[0] if len(lookups) == 1 else answers[1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://rebind.test:{port}/hook"
    secret = new_secret()
    async with Sender(WebhookSettings(allow_private=True)) as sender:
        delivered = await sender.send(url, secret, "msg_rebind", PAYLOAD)
        assert delivered.delivered, delivered
        assert lookups == ["rebind.test"]
        assert receiver.received[0].headers["host"] == f"rebind.test:{port}"
        Webhook(secret).verify(receiver.received[0].body, receiver.received[0].headers)

        moved = await sender.send(url, secret, "msg_rebind", PAYLOAD)
        assert lookups == ["rebind.test"] * 2
        assert moved.status_code == 0
        assert "ConnectError" in moved.error
        assert len(receiver.received) == 1

    lookups.clear()
    async with Sender(WebhookSettings(allow_private=False)) as strict:
        refused = await strict.send(url, secret, "msg_rebind", PAYLOAD)
    assert refused.error == (
        "refused: rebind.test resolves to 127.0.0.1, a loopback address, which is not allowed"
    )
    assert len(receiver.received) == 1


async def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.script = [Answer(307, {"location": "http://169.254.169.254/latest/meta-data/"})]
    async with Sender(WebhookSettings(allow_private=True)) as sender:
        outcome = await sender.send(receiver.url, new_secret(), "msg_redirect", PAYLOAD)
    assert outcome.status_code == 307
    assert outcome.error == "HTTP 307 Temporary Redirect (redirects are not followed)"
    assert len(receiver.received) == 1
