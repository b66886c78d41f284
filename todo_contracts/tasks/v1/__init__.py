"""Generated from proto/todo/tasks/v1 by `nox -s proto`; do not edit."""
