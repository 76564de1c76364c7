"""The platform every layer stands on: the access gate and request context (core), the
verifiable audit trail (trail), people, roles and sites (accounts), notices
(notifications) and the record kit (kit)."""
