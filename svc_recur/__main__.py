"""`python -m svc_recur` (or `todo serve recur`): runs the recurrence service until SIGTERM."""

from __future__ import annotations

from svc_recur.service import SERVICE
from todo_runtime.runner import serve

if __name__ == "__main__":
    serve(SERVICE)
