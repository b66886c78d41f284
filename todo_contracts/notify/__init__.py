"""Generated from proto/todo/notify/v1 by `nox -s proto`; do not edit."""
