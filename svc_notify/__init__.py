"""svc_notify: reminders that fire on time, once, as in-app notifications and signed webhooks."""
