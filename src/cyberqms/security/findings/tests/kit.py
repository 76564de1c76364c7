"""Sample access-finding values for the record-kit walker (kit.tests.kit): a finding a
person reports (a shared account noticed on the shop floor), resolved or accepted."""

from __future__ import annotations

from typing import Any

CREATE: dict[str, Any] = {
    "title": "Shared LIMS login seen on the QC bench",
    "description": "Two analysts used one LIMS session during the night shift.",
    "kind": "reported",
    "severity": "medium",
}
FILL: dict[str, Any] = {"resolution": "Sessions split; both analysts briefed."}
# Queries of the list page and the API list, the same for 1 row as for 5.
QUERIES = {"page": 9, "api": 7}
