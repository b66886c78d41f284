"""`python -m svc_live` (or `todo serve live`): runs the live-updates service until SIGTERM."""

from __future__ import annotations

from svc_live.service import SERVICE
from todo_runtime.runner import serve

if __name__ == "__main__":
    serve(SERVICE)
