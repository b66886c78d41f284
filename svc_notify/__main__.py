"""`python -m svc_notify` (or `todo serve notify`): runs the notification service until SIGTERM."""

from __future__ import annotations

from svc_notify.service import SERVICE
from todo_runtime.runner import serve

if __name__ == "__main__":
    serve(SERVICE)
