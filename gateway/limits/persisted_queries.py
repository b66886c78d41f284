"""Automatic persisted queries (APQ), as Apollo Client's persisted-queries link speaks them.

The client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": <hex>}`, at first
without the document, so a query fits a short GET. An unknown hash is answered
PERSISTED_QUERY_NOT_FOUND (message `PersistedQueryNotFound`, which clients also match); the
client then sends the document with its hash. The hash is checked, and once the document parses
and validates it is kept, so later requests, POST or GET, need only the hash.

The store is a bounded LRU in this process: each gateway replica has its own, and a client whose
request reaches another replica sends its document once more, as the protocol expects.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from gateway.errors import BAD_USER_INPUT, GatewayError

PERSISTED_QUERY_NOT_FOUND: Final = "PERSISTED_QUERY_NOT_FOUND"
NOT_FOUND_MESSAGE: Final = "PersistedQueryNotFound"
HASH_MISMATCH_MESSAGE: Final = "provided sha does not match query"
SUPPORTED_VERSION: Final = 1
DEFAULT_MAX_DOCUMENTS: Final = 1000
# Far beyond what the token limit lets a real document reach; bounds the store at 32 MiB.
DEFAULT_MAX_DOCUMENT_BYTES: Final = 32 * 1024


def requested_hash(extensions: Mapping[str, object] | None) -> str | None:
    """The hash a request names in `extensions.persistedQuery`; None for an ordinary request.

    Raises BAD_USER_INPUT for a malformed extension or a version other than 1.
    """
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise GatewayError(BAD_USER_INPUT, "extensions.persistedQuery must be an object")
    version = persisted.get("version")
    if isinstance(version, bool) or version != SUPPORTED_VERSION:
        raise GatewayError(
            BAD_USER_INPUT,
            f"Unsupported persisted query version {version!r}: only {SUPPORTED_VERSION} is known",
        )
    sha256_hash = persisted.get("sha256Hash")
    if not isinstance(sha256_hash, str):
        raise GatewayError(BAD_USER_INPUT, "extensions.persistedQuery.sha256Hash must be a string")
    return sha256_hash


class PersistedQueries:
    """Documents by the SHA-256 of their text; the least recently used goes first.

    max_documents: how many documents are kept.
    max_document_bytes: a longer document (UTF-8) runs but is not kept: its hash stays unknown,
        and its client keeps sending it in full after each PERSISTED_QUERY_NOT_FOUND.
    """

    def __init__(
        self,
        max_documents: int = DEFAULT_MAX_DOCUMENTS,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    ) -> None:
        self._max_documents = max_documents
        self._max_document_bytes = max_document_bytes
        self._documents: OrderedDict[str, str] = OrderedDict()

    def __contains__(self, sha256_hash: object) -> bool:
        return sha256_hash in self._documents

    def __len__(self) -> int:
        return len(self._documents)

    async def execute(
        self,
        request: GraphQLRequestData,
        run: Callable[[GraphQLRequestData], Awaitable[ExecutionResult]],
    ) -> ExecutionResult:
        """Runs `request` through `run`, its document taken from the store when it sends a hash only.

        A document sent with its hash is kept once it parses and validates. A
        protocol error is answered without running anything.
        """
        try:
            sha256_hash = requested_hash(request.extensions)
        except GatewayError as error:
            return _refused(error)
        if sha256_hash is None:
            return await run(request)
        try:
            query = self._document(sha256_hash, request.query)
        except GatewayError as error:
            return _refused(error)
        result = await run(dataclasses.replace(request, query=query))
        if request.query is not None and not isinstance(result, PreExecutionError):
            self._keep(sha256_hash, query)
        return result

    def _document(self, sha256_hash: str, query: str | None) -> str:
        """`query` if it hashes to `sha256_hash`; without it, the stored document of that hash."""
        if query is None:
            stored = self._documents.get(sha256_hash)
            if stored is None:
                raise GatewayError(PERSISTED_QUERY_NOT_FOUND, NOT_FOUND_MESSAGE)
            self._documents.move_to_end(sha256_hash)
            return stored
        if _sha256(query) != sha256_hash:
            raise GatewayError(BAD_USER_INPUT, HASH_MISMATCH_MESSAGE)
        return query

    def _keep(self, sha256_hash: str, query: str) -> None:
        if len(query.encode("utf-8", "surrogatepass")) > self._max_document_bytes:
            return
        self._documents[sha256_hash] = query
        self._documents.move_to_end(sha256_hash)
        while len(self._documents) > self._max_documents:
            self._documents.popitem(last=False)


def _refused(error: GatewayError) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[error])


def _sha256(text: str) -> str:
    # surrogatepass: a lone surrogate (refused later, as unstorable text) must not crash the hash.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
