"""Bearer JWT verification: what is accepted, and every way a token is refused."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.transport.auth import AuthError, TokenVerifier, authorization_param, bearer_token
from tests.support.gateway.gateway_harness import JWT_SECRET, OTHER_SECRET, make_config, token_for
from todo_runtime.tokens import issue_token


async def test_valid_token_yields_its_subject() -> None:
    verifier = TokenVerifier(make_config())
    assert await verifier.user_id(f"Bearer {token_for('alice')}") == "alice"
    assert await verifier.user_id(f"bearer   {token_for('bob')}  ") == "bob"


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "missing bearer token"),
        ("", "missing bearer token"),
        ("Basic dXNlcjpwYXNz", "malformed Authorization header"),
        ("Bearer", "malformed Authorization header"),
        ("Bearer not-a-jwt", "invalid token"),
    ],
)
async def test_missing_or_malformed_header_is_refused(
    authorization: str | None, reason: str
) -> None:
    with pytest.raises(AuthError, match=reason):
        await TokenVerifier(make_config()).user_id(authorization)


def _sign(claims: dict[str, object], secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (_sign({"sub": "alice", "exp": int(time.time()) - 10}), "token expired"),
        (token_for("alice", secret=OTHER_SECRET), "invalid token"),
        (_sign({"exp": int(time.time()) + 86_400}), "invalid token"),
        (_sign({"sub": "alice"}), "invalid token"),
        (_sign({"sub": "   ", "exp": int(time.time()) + 86_400}), "empty subject"),
        (_sign({"sub": 42, "exp": int(time.time()) + 86_400}), "invalid token"),
        (
            _sign({"sub": "alice", "exp": int(time.time()) + 86_400}, JWT_SECRET * 2, "HS512"),
            "invalid token",
        ),
        (
            jwt.encode({"sub": "alice", "exp": int(time.time()) + 86_400}, "", algorithm="none"),
            "invalid token",
        ),
    ],
    ids=[
        "expired",
        "wrong-signature",
        "no-sub",
        "no-exp",
        "blank-sub",
        "non-string-sub",
        "other-alg",
        "alg-none",
    ],
)
async def test_bad_tokens_are_refused(token: str, reason: str) -> None:
    with pytest.raises(AuthError, match=reason):
        await TokenVerifier(make_config()).user_id(f"Bearer {token}")


async def test_audience_and_issuer_are_enforced_when_configured() -> None:
    verifier = TokenVerifier(make_config(jwt_audience="todo", jwt_issuer="https://idp.example"))
    exp = int(time.time()) + 86_400
    good = _sign({"sub": "alice", "exp": exp, "aud": "todo", "iss": "https://idp.example"})
    assert await verifier.user_id(f"Bearer {good}") == "alice"
    for claims in (
        {"sub": "alice", "exp": exp, "aud": "other", "iss": "https://idp.example"},
        {"sub": "alice", "exp": exp, "aud": "todo", "iss": "https://evil.example"},
        {"sub": "alice", "exp": exp},
    ):
        with pytest.raises(AuthError, match="invalid token"):
            await verifier.user_id(f"Bearer {_sign(claims)}")


async def test_a_token_issued_with_the_audience_and_issuer_passes_their_check() -> None:
    """What `todo check` mints for a gateway that requires both claims."""
    verifier = TokenVerifier(make_config(jwt_audience="todo", jwt_issuer="https://idp.example"))
    token = issue_token(JWT_SECRET, "alice", 60, audience="todo", issuer="https://idp.example")
    assert await verifier.user_id(f"Bearer {token}") == "alice"
    with pytest.raises(AuthError, match="invalid token"):
        await verifier.user_id(f"Bearer {issue_token(JWT_SECRET, 'alice', 60)}")


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, dict[str, object]]]:
    """An HTTP server on a free port answering with the JWKS document the test fills in."""
    document: dict[str, object] = {"keys": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", document
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_rs256_tokens_are_checked_against_the_jwks(
    jwks_server: tuple[str, dict[str, object]],
) -> None:
    url, document = jwks_server
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    document["keys"] = [{**public_jwk, "kid": "k1", "use": "sig"}]
    config = make_config(jwt_algorithm="RS256", jwt_secret=None, jwks_url=url)
    verifier = TokenVerifier(config)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    claims = {"sub": "carol", "exp": int(time.time()) + 86_400}
    signed = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": "k1"})
    assert await verifier.user_id(f"Bearer {signed}") == "carol"

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(AuthError, match="invalid token"):
        await verifier.user_id(f"Bearer {forged}")
    # An HS256 token "signed" with the public key must not pass as RS256 (algorithm confusion).
    with pytest.raises(AuthError, match="invalid token"):
        await verifier.user_id(f"Bearer {_sign(claims, secret=JWT_SECRET)}")


def test_issue_token_round_trips_and_validates_its_arguments() -> None:
    token = issue_token(JWT_SECRET, "dave", 60)
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "dave"
    assert 0 < claims["exp"] - time.time() <= 60
    with pytest.raises(ValueError, match="32 bytes"):
        issue_token("short", "dave", 60)
    with pytest.raises(ValueError, match="ttl_seconds"):
        issue_token(JWT_SECRET, "dave", 0)
    with pytest.raises(ValueError, match="user_id"):
        issue_token(JWT_SECRET, "", 60)


def test_bearer_token_and_connection_params() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert authorization_param({"Authorization": "Bearer a"}) == "Bearer a"
    assert authorization_param({"authorization": "Bearer b"}) == "Bearer b"
    assert authorization_param({"AUTHORIZATION": "Bearer c"}) == "Bearer c"
    assert authorization_param({"authorization": 42}) is None
    assert authorization_param({}) is None
    assert authorization_param(None) is None


@pytest.mark.parametrize(
    "subject", ["a\nb", "ümlaut", "with space", "x" * 129, "tab\there", "a\x00b", "é"]
)
async def test_a_signed_token_whose_subject_is_no_user_id_is_refused(subject: str) -> None:
    token = jwt.encode(
        {"sub": subject, "exp": int(time.time()) + 60}, JWT_SECRET, algorithm="HS256"
    )
    with pytest.raises(AuthError, match="not a user id"):
        await TokenVerifier(make_config()).user_id(f"Bearer {token}")


@pytest.mark.parametrize("subject", ["alice", "auth0|5f7c8ec7", "google-oauth2:1234", "a.b@c.de"])
async def test_user_ids_from_common_identity_providers_are_accepted(subject: str) -> None:
    token = jwt.encode(
        {"sub": subject, "exp": int(time.time()) + 60}, JWT_SECRET, algorithm="HS256"
    )
    assert await TokenVerifier(make_config()).user_id(f"Bearer {token}") == subject


async def test_a_verified_token_is_remembered_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = TokenVerifier(make_config())
    token = _sign({"sub": "alice", "exp": int(time.time()) + 60})
    checks = 0
    verify = verifier._verify

    async def counted(value: str) -> tuple[str, float]:
        nonlocal checks
        checks += 1
        return await verify(value)

    monkeypatch.setattr(verifier, "_verify", counted)
    for _ in range(3):
        assert await verifier.user_id(f"Bearer {token}") == "alice"
    assert checks == 1

    # At its expiry the remembered answer is dropped and the token checked in full again.
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    await verifier.user_id(f"Bearer {token}")
    assert checks == 2


async def test_a_refused_token_is_never_remembered() -> None:
    verifier = TokenVerifier(make_config())
    forged = _sign({"sub": "alice", "exp": int(time.time()) + 60}, secret=OTHER_SECRET)
    for _ in range(2):
        with pytest.raises(AuthError, match="invalid token"):
            await verifier.user_id(f"Bearer {forged}")
