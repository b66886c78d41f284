"""The gateway as a process of the system: `todo serve gateway`, HTTP on TODO_GATEWAY_PORT."""

from __future__ import annotations

from todo_runtime import endpoints
from todo_runtime.service import Component

COMPONENT = Component("gateway", "gateway", endpoints.GATEWAY, http=True)
