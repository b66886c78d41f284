"""svc_audit: the append-only audit log (one RFC 9162 Merkle tree), signed checkpoints, proofs."""
