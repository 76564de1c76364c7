"""Direct database access for the tamper tests: what someone owning the database can do."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.db import connection


def sql(statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run raw SQL on the test connection, bypassing the application."""
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))
        return list(cursor.fetchall()) if cursor.description else []


def body(seq: int) -> str:
    return str(sql("SELECT body FROM trail_auditentry WHERE seq = %s", [seq])[0][0])


def leaf(text: str) -> bytes:
    return hashlib.sha256(b"\x00" + text.encode("utf-8")).digest()


def set_body(seq: int, text: str, *, rehash: bool = False) -> None:
    """Replace an entry's body; with `rehash`, forge a matching leaf hash as well."""
    assert text != body(seq), "the tampering must change something"
    if rehash:
        sql(
            "UPDATE trail_auditentry SET body = %s, leaf_hash = %s WHERE seq = %s",
            [text, leaf(text), seq],
        )
    else:
        sql("UPDATE trail_auditentry SET body = %s WHERE seq = %s", [text, seq])


def note(size: int) -> str:
    return str(sql("SELECT note FROM trail_checkpoint WHERE size = %s", [size])[0][0])
