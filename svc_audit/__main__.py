"""`python -m svc_audit` (or `todo serve audit`): runs the audit service until SIGTERM."""

from __future__ import annotations

from svc_audit.service import SERVICE
from todo_runtime.runner import serve

if __name__ == "__main__":
    serve(SERVICE)
