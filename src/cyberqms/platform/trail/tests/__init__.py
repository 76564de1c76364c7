"""Tests of the audit trail: the Django-free core (no database) and the Django side."""
