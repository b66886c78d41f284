"""`python -m svc_recur` (or `todo serve recur`): runs the recurrence service until SIGTERM."""

from __future__ import annotations

from svc_recur.config import RecurConfig
from svc_recur.server import start
from todo_runtime.service import serve

if __name__ == "__main__":
    serve("svc_recur", lambda: start(RecurConfig.from_env()))
