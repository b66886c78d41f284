"""svc_audit as the runtime starts it: the signing key checked against the log's (or changed on
purpose), intake consumers, the sequencer, AuditService."""

from __future__ import annotations

from collections.abc import Sequence

from svc_audit.history import History
from svc_audit.intake import record
from svc_audit.key_check import take_up_key
from svc_audit.key_rotations import KeyRotations
from svc_audit.sequencer import Sequencer
from svc_audit.servicer import AuditServicer
from svc_audit.settings import AuditSettings
from todo_contracts.audit.v1 import audit_service_pb2, audit_service_pb2_grpc
from todo_runtime import endpoints, topics
from todo_runtime.grpc_server import ServiceBinding
from todo_runtime.migrations import MigrationSet
from todo_runtime.page_tokens import PageTokens
from todo_runtime.service import Component, ServiceDefinition, ServiceParts

SERVICE_NAME = audit_service_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name
SCHEMA = "audit"


async def setup(parts: ServiceParts) -> Sequence[ServiceBinding]:
    settings = AuditSettings.from_env(parts.config.env)
    await take_up_key(parts.pool, SCHEMA, settings)
    parts.consume([topics.TASK_EVENTS, topics.REMINDERS], record)
    parts.background("sequencer", Sequencer(parts.pool, SCHEMA, settings).run)
    tokens = PageTokens(parts.config.internal_secret, "todo.audit.v1.ListAuditEntries")
    rotation_tokens = PageTokens(parts.config.internal_secret, "todo.audit.v1.ListKeyRotations")
    servicer = AuditServicer(
        parts.pool,
        History(parts.pool, tokens),
        KeyRotations(parts.pool, rotation_tokens),
        settings.signing_key.public_key,
    )
    return [
        ServiceBinding(
            SERVICE_NAME, servicer, audit_service_pb2_grpc.add_AuditServiceServicer_to_server
        )
    ]


SERVICE = ServiceDefinition(
    component=Component("audit", "svc_audit", endpoints.AUDIT),
    schema=SCHEMA,
    migrations=MigrationSet("svc_audit", "svc_audit"),
    produces=(topics.AUDIT_CHECKPOINTS,),
    consumes=(topics.TASK_EVENTS, topics.REMINDERS),
    setup=setup,
)
