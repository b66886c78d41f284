"""One attempt: a POST signed afresh, sent to the addresses that passed the target check.

Receivers reject signatures older than five minutes, so every attempt signs
the body again with the current time (`standardwebhooks`) under the same
`webhook-id`. The host is resolved once per attempt (off the event loop) and
the request goes to a checked IP, with the registered name in the Host
header and, for https, as the TLS server name (SNI) that the certificate
must match: a second lookup, which DNS rebinding could answer differently,
never happens. So that a connection verified for one name never carries a
request for another, connections are not kept alive; no proxy from the
environment is used and redirects are not followed (each would send the
request somewhere unchecked).

With tracing on, each request is a client span of the official httpx instrumentation and carries
`traceparent`, so the receiver can continue the trace; the span shows the URL without its path and
query, which may hold the receiver's secret (Slack's and Discord's webhook URLs do).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import httpx
from standardwebhooks import Webhook

from svc_notify import retries, targets
from svc_notify.webhook_settings import WebhookSettings
from todo_runtime import tracing
from todo_runtime.failures import describe

if TYPE_CHECKING:
    from opentelemetry.instrumentation.httpx import RequestInfo
    from opentelemetry.trace import Span

_USER_AGENT: Final = "todo-webhooks/1"
_RETRY_AFTER_STATUSES: Final = frozenset({429, 503})
_URL_ATTRIBUTES: Final = ("url.full", "http.url")  # the current and the older HTTP conventions


@dataclass(frozen=True)
class Outcome:
    """How one attempt went. `status_code` 0: no answer; `error` empty: delivered."""

    status_code: int
    error: str
    latency_ms: int
    retry_after: float | None = None
    refused: bool = False  # the target check refused every address: nothing was sent

    @property
    def delivered(self) -> bool:
        return not self.error

    @property
    def gone(self) -> bool:
        """HTTP 410: the receiver asks never to be sent anything again."""
        return self.status_code == 410


class Sender:
    """Makes attempts with one HTTP client, open while used as `async with Sender(...)`."""

    def __init__(self, settings: WebhookSettings) -> None:
        self._settings = settings
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=settings.ca_file) if settings.ca_file else True
        )
        self._client = httpx.AsyncClient(
            verify=verify,
            trust_env=False,
            follow_redirects=False,
            timeout=settings.timeout,
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"user-agent": _USER_AGENT},
        )
        tracing.http_client(self._client, request_hook=_without_path)

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._client.aclose()

    async def send(self, url: str, secret: str, message_id: str, payload: Any) -> Outcome:
        """Signs and POSTs `payload` as JSON; never raises for what the target does."""
        started = time.monotonic()

        def outcome(status: int, error: str, retry_after: float | None = None) -> Outcome:
            elapsed = round((time.monotonic() - started) * 1000)
            return Outcome(status, error, elapsed, retry_after)

        body = json.dumps(payload, separators=(",", ":"))
        try:
            async with asyncio.timeout(self._settings.timeout):
                target = targets.parse(url)
                addresses = await targets.resolve(
                    target, allow_private=self._settings.allow_private
                )
                response = await self._post(target, addresses, message_id, secret, body)
        except (TimeoutError, httpx.TimeoutException):
            return outcome(0, f"no answer within {self._settings.timeout:g} s")
        except targets.TargetRefused as refused:
            return replace(outcome(0, f"refused: {refused}"), refused=True)
        except httpx.HTTPError as error:
            return outcome(0, describe(error))
        except OSError as error:  # the name lookup failed for now
            return outcome(0, f"cannot resolve the host: {describe(error)}")
        status = response.status_code
        if 200 <= status < 300:
            return outcome(status, "")
        problem = f"HTTP {status} {response.reason_phrase}".rstrip()
        if response.is_redirect:
            problem += " (redirects are not followed)"
        if status == 410:
            problem += ": the endpoint is now disabled"
        wait = None
        if status in _RETRY_AFTER_STATUSES:
            wait = retries.retry_after_seconds(
                response.headers.get("retry-after"), datetime.now(UTC)
            )
        return outcome(status, problem, wait)

    async def _post(
        self,
        target: httpx.URL,
        addresses: list[targets.IPAddress],
        message_id: str,
        secret: str,
        body: str,
    ) -> httpx.Response:
        """The answer of the first checked address that accepts a connection (headers only)."""
        signed_at = datetime.fromtimestamp(int(time.time()), UTC)
        headers = {
            "host": target.netloc.decode("ascii"),
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(signed_at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, signed_at, body),
        }
        server_name = target.raw_host.decode("ascii")

        async def post_to(address: targets.IPAddress) -> httpx.Response:
            request = self._client.build_request(
                "POST",
                target.copy_with(host=str(address)),
                headers=headers,
                content=body.encode(),
                extensions={"sni_hostname": server_name},
            )
            response = await self._client.send(request, stream=True)
            await response.aclose()  # the body is not read: a receiver cannot make us buffer it
            return response

        *others, last = addresses
        for address in others:
            try:
                return await post_to(address)
            except httpx.ConnectError:
                continue
        return await post_to(last)


async def _without_path(span: Span, request: RequestInfo) -> None:
    """Replaces the URL the instrumentation recorded with one whose path and query are redacted."""
    recorded = getattr(span, "attributes", None) or {}  # what the SDK's span has set so far
    if not isinstance(request.url, httpx.URL):
        return
    redacted = str(request.url.copy_with(path="/REDACTED", query=None))
    for name in _URL_ATTRIBUTES:
        if name in recorded:
            span.set_attribute(name, redacted)
