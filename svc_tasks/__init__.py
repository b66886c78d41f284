"""svc_tasks: owns tasks, the per-user change log and the outbox of task events."""
