"""A started SecureBroker per test, and the PEM files its clients need."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

import pytest

from tests.support.kafka_security.clients import PASSWORD, USER
from tests.support.kafka_security.secure_broker import ClientFiles, SecureBroker


class Listener(TypedDict, total=False):
    """How the broker's listener is secured: `secure_broker`'s indirect parameter."""

    tls: bool
    mutual_tls: bool
    sasl_mechanisms: tuple[str, ...]


SCRAM_SHA_512_OVER_TLS = Listener(tls=True, sasl_mechanisms=("SCRAM-SHA-512",))


@pytest.fixture
def secure_broker(request: pytest.FixtureRequest) -> Iterator[SecureBroker]:
    """SASL_SSL with SCRAM-SHA-512 unless parametrized (indirect) with a Listener; accepts
    USER with PASSWORD."""
    listener: Listener = getattr(request, "param", SCRAM_SHA_512_OVER_TLS)
    with SecureBroker(**listener, users={USER: PASSWORD}) as broker:
        yield broker


@pytest.fixture
def client_files(secure_broker: SecureBroker, tmp_path: Path) -> ClientFiles:
    return secure_broker.write_client_files(tmp_path)
