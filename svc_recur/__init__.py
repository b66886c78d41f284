"""svc_recur: understands recurrence rules and creates the next instance of completed recurring tasks."""
