"""Shared plumbing for every service: configuration, Postgres, Kafka, outbox, gRPC, logging.

Nothing here knows about tasks, reminders or any other business rule.
"""
