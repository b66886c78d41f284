"""Generated from proto/todo/recur/v1 by `nox -s proto`; do not edit."""
