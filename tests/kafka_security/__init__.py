"""The Kafka clients against a real TLS and SASL endpoint (a proxy in front of Tansu)."""
