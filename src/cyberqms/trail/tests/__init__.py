"""Tests for the Django-free audit-trail core (plain pytest, no database)."""
