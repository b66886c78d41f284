"""`python -m svc_tasks` (or `todo serve tasks`): runs the task service until SIGTERM."""

from __future__ import annotations

from svc_tasks.service import SERVICE
from todo_runtime.runner import serve

if __name__ == "__main__":
    serve(SERVICE)
