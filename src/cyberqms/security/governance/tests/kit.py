"""Sample access-review values for the record-kit walker (kit.tests.kit): an ad hoc review
of one person's access, launched, decided and signed by its owner as their reviewer (the
person has no manager), then closed."""

from __future__ import annotations

from typing import Any

CREATE: dict[str, Any] = {
    "title": "Access of the QC analysts after the LIMS upgrade",
    "description": "Ad hoc review after the upgrade changed the LIMS roles.",
    "review_kind": "ad_hoc",
}
FILL: dict[str, Any] = {}
QUERIES = {"page": 9, "api": 7}


def before(kind: Any, record: Any, action: str, people: dict[str, Any]) -> None:
    from cyberqms.platform.kit.record_services import record_update
    from cyberqms.platform.kit.tests.kit import ready_to_sign, signature
    from cyberqms.security.governance.campaigns import item_decide, review_attest
    from cyberqms.security.governance.models import ReviewItem

    if action in ("launch", "start") and record.person_id is None:
        record_update(record, actor=record.owner, changes={"person": people["author"]})
    if action == "close":
        for item in ReviewItem.objects.filter(review=record, attestation__isnull=True):
            reviewer = ready_to_sign(item.reviewer, people["admin"])
            item_decide(item, actor=reviewer, decision="keep", reason="Used every week.")
        for reviewer_id in set(ReviewItem.objects.filter(
                review=record, attestation__isnull=True).values_list("reviewer_id",
                                                                     flat=True)):
            reviewer = next(p for p in people.values() if p.pk == reviewer_id)
            review_attest(record, actor=reviewer, signature=signature(reviewer))
