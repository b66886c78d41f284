"""A transparency log, pure: RFC 9162 Merkle trees, their proofs, signed checkpoints, the
canonical audit entry and the verification that trusts no server.

No I/O: svc_audit feeds it rows from PostgreSQL, `todo audit verify` feeds it
answers from the GraphQL API, and both reach the same verdict the same way.
"""
