"""svc_live: pushes each user's task changes and fired reminders over gRPC server streams."""
