"""Generated from proto/todo/audit/v1 by `nox -s proto`; do not edit."""
