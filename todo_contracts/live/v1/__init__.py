"""Generated from proto/todo/live/v1 by `nox -s proto`; do not edit."""
