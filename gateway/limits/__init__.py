"""What one operation, one user and one connection may ask of the gateway, checked before the
work is done: cost and rate, document size, list lengths, storable text, connections per user,
and the documents persisted queries keep."""
