"""`python -m svc_tasks` (or `todo serve tasks`): runs the task service until SIGTERM."""

from __future__ import annotations

from svc_tasks.config import TasksConfig
from svc_tasks.server import start
from todo_runtime.service import serve

if __name__ == "__main__":
    serve("svc_tasks", lambda: start(TasksConfig.from_env()))
