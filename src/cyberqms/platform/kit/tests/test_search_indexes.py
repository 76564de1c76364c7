"""The lists' text search on PostgreSQL is served by trigram indexes made after migrate
for every family's searched columns (issue 14: pages at 10^6 records within 2× their time
at 10^3; an unindexed search read the whole table)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q

from cyberqms.platform.kit import search_indexes
from cyberqms.quality.deviations.models import Deviation

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"


def test_index_names_fit_postgresqls_limit() -> None:
    long = search_indexes.index_name("incidents_incident_with_a_long_name", "involved_accounts_toooo")
    assert (len(long), long.endswith("_trgm")) == (63, True)


def test_short_index_names_say_what_they_index() -> None:
    assert search_indexes.index_name("capa_capa", "title") == "capa_capa_title_trgm"


def test_deviations_search_their_number_title_and_references() -> None:
    assert [c for t, c in search_indexes.searched_columns() if t == "deviations_deviation"] == [
        "number", "title", "security_reference", "product_reference"]


@pytest.mark.skipif(not POSTGRES, reason="trigram indexes exist on PostgreSQL only")
def test_every_searched_column_has_its_index_after_migrate() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%_trgm"])
        present = {row[0] for row in cursor.fetchall()}
    wanted = {search_indexes.index_name(t, c) for t, c in search_indexes.searched_columns()}
    assert wanted - present == set()


@pytest.mark.skipif(not POSTGRES, reason="trigram indexes exist on PostgreSQL only")
def test_the_index_matches_the_lists_search_expression() -> None:
    rows = Deviation.objects.filter(Q(title__icontains="excursion")).order_by()
    with connection.cursor() as cursor:
        # On a near-empty table the planner prefers any scan to the index: leave it none
        # but the index's bitmap scan, which it takes only if the expression matches.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = rows.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "deviations_deviation_title_trgm" in plan


def test_ensure_again_makes_nothing() -> None:
    # PostgreSQL: migrate made them all; SQLite: there is no such index to make.
    assert search_indexes.ensure() == []
