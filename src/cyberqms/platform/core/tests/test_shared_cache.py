"""Every web worker and node shares one cache (issue 14, item 7): the database's, whose table
`migrate` makes. A one-time code used on one worker is then refused on every other."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection

from cyberqms import settings as production

pytestmark = pytest.mark.django_db(transaction=True)

shared_cache = importlib.import_module("cyberqms.platform.core.migrations.0006_shared_cache_table")


def test_production_keeps_the_cache_in_the_database() -> None:
    assert production.CACHES["default"]["BACKEND"] == (
        "django.core.cache.backends.db.DatabaseCache")


def test_migrate_makes_the_shared_cache_table_and_the_cache_writes_there(settings: Any) -> None:
    settings.CACHES = production.CACHES
    shared_cache.create_cache_table(None, SimpleNamespace(connection=connection))
    cache.set("used-code", "123456", 60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM cyberqms_cache")
        assert cursor.fetchone()[0] == 1
    assert cache.get("used-code") == "123456"
