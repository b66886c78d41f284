"""Tasks (svc_tasks): the Task type, its inputs, its queries and mutations, and its live updates."""
