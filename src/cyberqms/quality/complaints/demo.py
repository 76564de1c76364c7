"""Complaints for the demo organization: what arrives from pharmacies, patients,
distributors and a regulator over the months, at both sites, in every state."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import kind_by_slug

# (site, complainant, channel, category, severity, title, what they report, finding,
#  root cause, response, cyber)
COMPLAINTS: tuple[tuple[str, ...], ...] = (
    ("DUB", "customer", "email", "packaging", "medium",
     "Cracked vials in a carton of batch {batch}",
     "Pharmacy reports three cracked vials in one carton on receipt.",
     "Retained samples intact; the shipment's shock logger tripped at 40 g.",
     "The carrier dropped the pallet during transfer.",
     "Replacement shipped; carrier claim opened.", ""),
    ("DUB", "patient", "phone", "quality_defect", "high",
     "Particles seen in a pre-filled syringe, batch {batch}",
     "Patient saw white particles in the syringe before injecting; did not use it.",
     "Returned syringe: protein aggregates; retained samples of the batch clean.",
     "Syringe stored frozen at the patient's home (temperature excursion after delivery).",
     "Patient advised on storage; product replaced through the pharmacy.", ""),
    ("BSL", "customer", "letter", "quality_defect", "medium",
     "Assay at the low limit reported by a contract manufacturer, lot {batch}",
     "Customer's incoming test found assay 95.2 % (limit 95.0 %).",
     "Our release result 98.9 %; customer's method differs in sample preparation.",
     "Method transfer incomplete: sonication time not in the customer's procedure.",
     "Method transfer report reissued with the missing step; results agree.", ""),
    ("DUB", "healthcare", "web", "adverse_event", "high",
     "Injection-site reaction reported by a hospital pharmacist",
     "Two patients with marked injection-site reactions after doses from batch {batch}.",
     "Batch records, sterility and endotoxin results reviewed: within specification.",
     "No product defect found; reactions consistent with the known safety profile.",
     "Pharmacovigilance case opened; pharmacist informed of the outcome.", ""),
    ("BSL", "regulator", "letter", "counterfeit", "high",
     "Suspected falsified packs found by the authority at a wholesaler",
     "Authority reports packs whose serial numbers do not verify in the national system.",
     "Serials never issued by our serialization system; print and foil differ.",
     "Falsified product in the supply chain; our serialization data were not altered.",
     "Authority informed with the verification results; wholesaler quarantined the stock.",
     "cyber"),
    ("DUB", "customer", "field", "supply", "low",
     "Late delivery of batch {batch} to a hospital group",
     "Hospital group reports a two-day late delivery.",
     "Order released on time; the logistics provider's booking system was down for a day.",
     "Outage at the logistics provider (ransomware), confirmed by their notice.",
     "Apology sent; alternate provider named in the continuity plan.", "cyber"),
    ("BSL", "internal", "email", "packaging", "low",
     "Leaflet version mismatch found in the returns area",
     "Returns clerk found leaflets of version 7 in packs that should carry version 8.",
     "Packs from stock made before the change effective date; within the transition rule.",
     "No error: the transition period allows version 7 until the end of the month.",
     "Clerk informed; note added to the returns procedure.", ""),
    ("DUB", "patient", "phone", "device", "medium",
     "Auto-injector did not fire, batch {batch}",
     "Patient pressed the auto-injector twice; it did not release.",
     "Returned device: safety cap not fully removed; device fired normally afterwards.",
     "Use error: the cap needs a straight pull; the leaflet picture shows a twist.",
     "Patient instructed; leaflet picture corrected through change control.", ""),
)
# The newest complaints stay open at the step they reached.
FATES = ("closed", "closed", "closed", "cancelled", "closed", "closed", "closed", "closed",
         "qa_review", "investigation", "open", "draft")


def schedule(loader: Any) -> int:
    """Put the complaints on the loader's timeline; returns how many."""
    # Its own random source: the other families' demo data stay as they were.
    rng = random.Random("cyberqms demo complaints")  # noqa: S311  # demo data, not secrets
    n = max(1, round(len(FATES) * loader.scale))
    fates = FATES if n == len(FATES) else ("closed",) * (n - 1) + ("open",)
    first = loader.clock.current + dt.timedelta(days=40)
    last = loader.end - dt.timedelta(days=2)
    open_ones = sum(fate not in ("closed", "cancelled") for fate in fates)
    settled_until = last - dt.timedelta(days=5 * open_ones + 20)
    span = (settled_until - first).total_seconds()
    for i, fate in enumerate(fates):
        if i < n - open_ones:  # spread over the months
            when = first + dt.timedelta(seconds=span * (i + rng.random()) / (n - open_ones))
        else:  # the open ones arrived in the last weeks
            when = last - dt.timedelta(days=5 * (n - i) - 2)
        loader.timeline.start(loader.office(when, rng), complaint(loader, rng, i, fate),
                              f"complaint {i + 1}")
    return n


def complaint(loader: Any, rng: random.Random, i: int, fate: str) -> Iterator[dt.datetime]:
    kind, cast = kind_by_slug("complaints"), loader.cast
    (site, complainant, channel, category, severity, title, report, finding, cause,
     response, cyber) = COMPLAINTS[i % len(COMPLAINTS)]
    batch = f"{loader.clock.current:%y}-{rng.randint(100, 999):04d}"
    received = loader.clock.current - dt.timedelta(hours=rng.randint(2, 30))
    owner = cast.process_owner if category != "counterfeit" else cast.it_security
    record = record_create(kind, actor=cast.author, site=cast.sites[site], values={
        "title": title.format(batch=batch), "description": report, "owner": owner,
        "event_at": received, "complainant": complainant, "channel": channel,
        "product_reference": f"Batch {batch}",
        "due_date": loader.clock.current.date() + dt.timedelta(days=30),
        "complainant_contact": f"Reference C-{rng.randint(1000, 9999)}",
    })
    if fate == "draft":
        return
    yield loader.later(0.1, 1, rng)
    if fate == "cancelled":
        kind.workflow.run(record, "cancel", actor=cast.qa_manager,
                          reason="Duplicate of a complaint received the same day by phone")
        return
    kind.workflow.run(record, "submit", actor=cast.author)
    if fate == "open":
        return
    yield loader.later(0.5, 3, rng)
    reportable = category == "adverse_event" or category == "counterfeit"
    record_update(record, actor=cast.qa_reviewer, reason="QA assessment", changes={
        "category": category, "severity": severity, "reportable": reportable,
        "cyber_related": bool(cyber),
        "reportable_reason": "Reported to the competent authority within 15 days."
        if reportable else "",
    })
    kind.workflow.run(record, "assess", actor=cast.qa_reviewer)
    if fate == "investigation":
        return
    yield loader.later(3, 12, rng)
    record_update(record, actor=owner, reason="Investigation findings", changes={
        "investigation_summary": finding, "root_cause": cause, "response": response})
    kind.workflow.run(record, "complete", actor=owner)
    if fate == "qa_review":
        return
    yield loader.later(1, 5, rng)
    kind.workflow.run(record, "close", actor=cast.qa_manager,
                      signature=loader.sign(cast.qa_manager))
