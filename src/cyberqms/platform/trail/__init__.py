"""Tamper-evident audit trail: canonical JSON, RFC 9162 Merkle tree, C2SP notes."""
