"""Generated from proto/todo/events/v1 by `nox -s proto`; do not edit."""
