"""Three weeks of security monitoring for the demo, on the records' simulated clock.

Security monitoring "goes live" three weeks before the end of the demo history: IT
security registers one event source per plant system, then the synthetic plant
(`cyberqms.demo.plant`, seeded, with two attack scenarios a day and the benign
near misses) is fed through `monitoring.services.ingest` as the syslog relays would
deliver it: per source, in micro-batches of lines that arrive together (a burst, at most
20 s), received 0.3–2.5 s after their last line. A few deliveries go wrong on purpose,
as they do in a plant: a Dublin firewall briefly sends syslog-wrapped CEF, UDP cuts some
long lines, a scanner knocks on the LIMS relay port, an Empower line comes in Latin-1.
Those are quarantined with the parser's reason (A11-10).

Every alert gets a triage script: Aisha Okafor (IT security) acknowledges it, on call for
critical and high ones, in office hours for the rest; data-integrity alerts are closed by
Dr. Helena Brandt (QA); true detections are investigated and resolved with what was done,
alerts on normal traffic and authorised work (a scheduled password audit, an emergency
PLC change agreed by phone, an export for the product quality review) are closed as false
positives with the reason. Scripts whose next step falls after the end of the history
stop there, so the latest alerts stay open, as some older long investigations do.

Everything goes through the services (ingest, `alert_transition`) on the records'
`Timeline`, so audit entries keep their time order. Normal traffic is sampled (`VOLUME`)
to keep the demo load fast; attacks and near misses are complete. One seeded
`random.Random` draws every choice (independent of the records' generator).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import heapq
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from cyberqms.demo.plant import Plant, SyntheticEvent, build_plant, generate
from cyberqms.demo.scenarios import Injection, Schedule
from cyberqms.platform.accounts.models import Site
from cyberqms.security.detect.enrich import Enricher, InMemoryDirectory
from cyberqms.security.monitoring import services
from cyberqms.security.monitoring.enums import AlertState
from cyberqms.security.monitoring.models import Alert, EventSource
from cyberqms.security.monitoring.own_events import SOURCE_NAME, qms_source

SEED = "cyberqms-demo-monitoring"
DAYS = 21
VOLUME = 0.015  # share of the plant's normal traffic fed (attacks and near misses are whole)
ATTACKS_PER_DAY = 2
WINDOW = dt.timedelta(minutes=30)  # one timeline step (and one transaction) per window
BURST_GAP_MS = 2_000  # lines closer than this arrive together
BURST_SPAN_MS = 20_000  # a relay flushes at least this often
# Attacks just before the end of the history, so the latest alerts are still being handled
# (before: how long before the end).
RECENT = (("bulk_export", dt.timedelta(hours=7)), ("password_spraying", dt.timedelta(hours=2)),
          ("new_admin_dc", dt.timedelta(minutes=35)))

# Synthetic source kind → registered kind (accounts.IntegrationKind) and parser format.
KIND = {"lims": "lims", "mes": "mes", "cds": "other", "dc": "directory",
        "firewall": "firewall", "scada": "scada", "plc": "scada"}
FORMAT = {"rfc5424": "syslog", "rfc3164": "syslog", "cef": "cef", "leef": "leef",
          "jsonl": "jsonl"}

Wait = dt.datetime | dt.timedelta
# Accounts the plant's applications log under: systems, working around the clock.
SYSTEM_ACCOUNTS = ("PASX-SYSTEM", "system", "SYSTEM")


def plant_directory(plant: Plant) -> InMemoryDirectory:
    """The plant's account directory as an HR/AD import would give it: leavers departed,
    everyone else active; operators work shifts, service and system accounts around the
    clock, everyone else days (what the off-hours and bulk-export rules read)."""
    statuses = {p.username: "departed" if p.departed else "active" for p in plant.people}
    schedules = {p.username: "shift" if p.role == "operator" else
                 "service" if p.role == "service" else "day" for p in plant.people}
    schedules.update(dict.fromkeys(SYSTEM_ACCOUNTS, "service"))
    return InMemoryDirectory(statuses, schedules=schedules)


@dataclass
class Truth:
    """What the generator knows about an alert's events."""

    scenarios: set[str] = field(default_factory=set)  # attack scenario ids
    near_misses: set[str] = field(default_factory=set)
    instances: set[str] = field(default_factory=set)  # "bulk_export#2"
    duplicate_of: str = ""  # the alert another rule raised on the same attack first

    @property
    def attack(self) -> str | None:
        return min(self.scenarios) if self.scenarios else None


@dataclass(frozen=True)
class Batch:
    source: str  # synthetic source id
    received_at: dt.datetime
    lines: list[bytes]


@dataclass
class FeedSummary:
    days: int = 0
    sources: int = 0
    batches: int = 0
    received: int = 0
    quarantined: int = 0
    alerts: int = 0
    states: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # spent feeding (triage not counted)
    cpu_seconds: float = 0.0

    def line(self) -> str:
        states = ", ".join(f"{AlertState(s).label.lower()} {n}"
                           for s, n in sorted(self.states.items()))
        return (f"security monitoring: {self.days} days from {self.sources} sources, "
                f"{self.received:,} events in {self.batches:,} deliveries "
                f"({self.quarantined} quarantined), "
                f"{self.alerts} alerts ({states}); fed in {self.seconds:.1f} s "
                f"({self.cpu_seconds:.1f} s CPU)")


# --- reasons analysts give -------------------------------------------------------------------

RESOLVED = {
    "brute_force_qms": "The QMS locked the account after the attempts. The address is an "
                       "internet scanner, now blocked at the perimeter; the user confirmed "
                       "no sign-in of their own and changed the password.",
    "brute_force_dc": "Administrator account locked and its password reset; the office PC "
                      "the attempts came from was isolated and re-imaged.",
    "password_spraying": "The Dublin office PC ran a credential-guessing tool; isolated, "
                         "and the targeted accounts had to change their passwords.",
    "privilege_escalation_qms": "Role grant reverted: it had no change control. Discussed "
                                "with the system owner; deviation raised for the gap.",
    "privilege_escalation_dc": "Group membership removed; the account is suspended pending "
                               "the HR review.",
    "gxp_record_offhours": "Results were changed at night over VPN without a reason; values "
                           "restored from the audit trail, data-integrity deviation opened, "
                           "account suspended.",
    "mass_deletion_cds": "Account disabled to stop the deletion; result sets restored from "
                         "the nightly backup and checked against the audit trail.",
    "mass_modification_mes": "Account disabled; batch records restored from backup and "
                             "reconciled with the MES audit trail.",
    "audit_trail_failure": "Verification re-run: the altered entry was a direct database "
                           "edit during maintenance. Integrity flag resolved with QA.",
    "departed_user_activity": "The leaver's LIMS local account was still active: disabled; "
                              "what it viewed was reviewed, nothing was changed.",
    "bulk_export": "Export and upload were not approved; the upload was blocked at the "
                   "proxy, HR and legal informed.",
    "new_admin_dc": "Nobody requested the account: removed, and the session that created "
                    "it traced and its credentials reset.",
    "new_admin_qms": "Generic administrator account removed; creation came from an external "
                     "address, credentials of the creating user reset.",
    "plc_change_without_cc": "Download confirmed unapproved: program compared with the "
                             "validated baseline and restored; change control opened "
                             "retrospectively.",
    "plc_change_without_cc_bsl": "Bioreactor PLC program restored from the validated "
                                 "baseline; change control opened retrospectively.",
    "scada_config_change_without_cc": "Alarm limit set back to the validated value; the "
                                      "operator retrained, change control opened.",
}
AUTHORISED = {  # scenario → (share closed as authorised work, reason)
    "brute_force_dc": (0.4, "Scheduled password audit by IT security (ticket SEC-2026-0412); "
                            "the account was the audit's target."),
    "plc_change_without_cc": (0.4, "Emergency change agreed by phone with QA under "
                                   "CC-2026-0031; the reference was added to the change "
                                   "record afterwards."),
    "plc_change_without_cc_bsl": (0.3, "Emergency fix approved by the bioreactor system "
                                       "owner under CC-2026-0029; reference missing in the "
                                       "engineering tool."),
    "bulk_export": (0.3, "Export for the annual product quality review, approved by QA; "
                         "the upload went to the contracted statistics provider."),
}
BENIGN = "Expected activity, confirmed with the system owner; no action needed."
BENIGN_BY_WORD = (
    ("off-hours", "Night-shift work on this week's roster; entries carry a reason per SOP."),
    ("night", "Night-shift work on this week's roster; entries carry a reason per SOP."),
    ("brute", "The user mistyped a recently changed password; confirmed by phone."),
    ("spray", "Shared kiosk PC with several users signing in; no attack."),
)
DATA_INTEGRITY = ("gxp_record_offhours", "mass_deletion_cds", "mass_modification_mes",
                  "audit_trail_failure", "bulk_export")


# --- the feed --------------------------------------------------------------------------------


class MonitoringFeed:
    """Scripts for the records' timeline: the feed itself and one triage per alert."""

    def __init__(self, cast: Any, clock: Any, timeline: Any, end: dt.datetime, *,
                 days: int = DAYS) -> None:
        self.cast = cast
        self.clock = clock
        self.timeline = timeline
        self.end = end
        self.start = (end - dt.timedelta(days=days)).replace(hour=6, minute=40, second=0,
                                                               microsecond=0)
        self.rng = random.Random(SEED)  # noqa: S311  # reproducible demo data, not secrets
        self.plant = build_plant()
        self.sources: dict[str, EventSource] = {}
        # sha256 of a labelled line → (scenario, near miss, instance)
        self.truth: dict[str, tuple[str | None, str | None, str | None]] = {}
        self.first_alert: dict[str, str] = {}  # attack instance → its first alert's number
        self.seen: set[int] = set()
        self.summary = FeedSummary(days=days)
        self._enricher: Enricher | None = None

    # --- time -------------------------------------------------------------------------------

    def office(self, when: dt.datetime) -> dt.datetime:
        """`when`, moved into office hours (Monday to Friday, 07:00–17:00 UTC)."""
        if when.hour < 7:
            when = when.replace(hour=7, minute=self.rng.randint(0, 50))
        elif when.hour >= 17:
            when = (when + dt.timedelta(days=1)).replace(hour=7, minute=self.rng.randint(0, 50))
        while when.weekday() >= 5:
            when += dt.timedelta(days=1)
        return when

    def in_office(self, when: dt.datetime) -> bool:
        return when.weekday() < 5 and 7 <= when.hour < 17

    def minutes(self, low: float, high: float) -> dt.timedelta:
        return dt.timedelta(minutes=self.rng.uniform(low, high))

    # --- the stream ----------------------------------------------------------------------------

    def register(self) -> None:
        """IT security registers one source per plant system (the QMS's own is cyberqms)."""
        from cyberqms.assets.systems.demo import system_for_source

        analyst = self.cast.it_security
        for src in self.plant.sources.values():
            # Each reports on its system of the inventory: its alerts land there.
            gxp_system = system_for_source(src.id)
            if src.kind == "qms":
                self.sources[src.id] = qms_source()
                if gxp_system is not None and self.sources[src.id].gxp_system_id is None:
                    services.source_system_set(self.sources[src.id], actor=analyst,
                                               gxp_system=gxp_system)
                continue
            name = f"{src.host} ({src.product})"
            found = EventSource.objects.filter(name=name).first()
            self.sources[src.id] = found or services.source_create(
                actor=analyst, name=name, kind=KIND[src.kind], system=src.product,
                format=FORMAT[src.format], site=self.cast.sites[src.site.code],
                addresses=[f"{src.ip}/32"], gxp_system=gxp_system,
            )
        # The demo command's own sources (the SCADA relay, the Dublin firewall) too.
        for source in EventSource.objects.filter(gxp_system__isnull=True):
            found = system_for_source(source.name)
            if found is not None:
                services.source_system_set(source, actor=analyst, gxp_system=found)
        self.summary.sources = len(self.sources)

    def enricher(self) -> Enricher:
        """The pipeline's enricher with the plant's directory (cyberqms's own accounts
        know only the demo people, not the plant's operators and service accounts)."""
        kinds = {SOURCE_NAME: "qms"}
        for src in self.plant.sources.values():
            kinds[self.sources[src.id].name] = src.kind
            kinds[src.product] = src.kind
        sites = dict(Site.objects.values_list("code", "time_zone"))
        return Enricher(sites, plant_directory(self.plant), kinds)

    @contextlib.contextmanager
    def plant_enrichment(self) -> Iterator[None]:
        """While the feed ingests: the enricher above instead of the one built from the
        cyberqms accounts (one instance for the whole feed: it remembers what the stream
        said, e.g. an account disabled)."""
        original = getattr(services, "event_enricher", None)
        if original is None:  # a pipeline without enrichment: nothing to swap
            yield
            return
        if self._enricher is None:
            self._enricher = self.enricher()
        enricher = self._enricher
        services.event_enricher = lambda: enricher
        try:
            yield
        finally:
            services.event_enricher = original

    def events(self) -> Iterator[SyntheticEvent]:
        """The plant with its scheduled attacks, and the few attacks of the last hours."""
        scheduled = generate(SEED, self.start, self.end - self.start,
                             scenarios=Schedule(per_day=ATTACKS_PER_DAY), volume=VOLUME,
                             plant=self.plant)
        recent_start = self.end - dt.timedelta(hours=8)
        recent = generate(f"{SEED}/recent", recent_start, self.end - recent_start,
                          scenarios=[Injection(sid, self.end - before) for sid, before in RECENT],
                          near_misses=None, plant=self.plant, sources=[])
        return heapq.merge(scheduled, recent, key=lambda e: e.ms)

    def windows(self, events: Iterable[SyntheticEvent]) -> Iterator[list[Batch]]:
        """The deliveries of each 5-minute window with events, in order of arrival."""
        window_ms = int(WINDOW.total_seconds() * 1000)
        current: int | None = None
        pending: list[SyntheticEvent] = []
        for event in events:
            slot = event.ms // window_ms
            if slot != current and pending:
                yield self.deliveries(pending)
                pending = []
            current = slot
            pending.append(event)
        if pending:
            yield self.deliveries(pending)

    def deliveries(self, events: list[SyntheticEvent]) -> list[Batch]:
        per_source: dict[str, list[SyntheticEvent]] = defaultdict(list)
        for event in events:
            per_source[event.source].append(event)
        batches: list[Batch] = []
        for source, items in per_source.items():
            burst: list[SyntheticEvent] = []
            for event in items:
                if burst and (event.ms - burst[-1].ms > BURST_GAP_MS
                              or event.ms - burst[0].ms > BURST_SPAN_MS):
                    batches.append(self.batch(source, burst))
                    burst = []
                burst.append(event)
            batches.append(self.batch(source, burst))
        batches.sort(key=lambda b: (b.received_at, b.source))
        return batches

    def batch(self, source: str, events: list[SyntheticEvent]) -> Batch:
        delay = dt.timedelta(seconds=self.rng.uniform(0.3, 2.5))
        lines = []
        for event in events:
            data = self.deliver(event)
            if event.label or event.near_miss:
                self.truth[hashlib.sha256(data).hexdigest()] = (
                    event.label, event.near_miss, event.instance)
            lines.append(data)
        return Batch(source, events[-1].time + delay, lines)

    def deliver(self, event: SyntheticEvent) -> bytes:
        """The bytes as they arrive; a few deliveries go wrong (never attack lines)."""
        data = event.line.encode()
        if event.label or event.near_miss:
            return data
        roll = self.rng.random()
        if event.source == "DUB-FW" and self._misconfigured(event.time):
            # The relay was switched to syslog framing for a firmware update.
            return f"<134>{event.time:%b %d %H:%M:%S} dub-fw01 ".encode() + data
        if roll < 0.004 and len(data) > 160:
            return data[: self.rng.randint(60, 140)]  # cut by a UDP path with a small MTU
        if roll < 0.006 and event.source == "BSL-CDS":
            return data.replace(b"msg=", b"msg=\xe9chantillon ", 1)  # Latin-1 from Empower
        return data

    def _misconfigured(self, when: dt.datetime) -> bool:
        day = self.start + dt.timedelta(days=9)
        return day.date() == when.date() and 8 <= when.hour < 15

    def scanner(self, window_end: dt.datetime) -> Batch | None:
        """Now and then an internet scanner reaches the LIMS relay's syslog port."""
        if self.rng.random() > 0.02:
            return None
        probes = [b"GET / HTTP/1.1", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                  b"SSH-2.0-Go", b"HELP", b""]
        lines = [p for p in self.rng.sample(probes, 3) if p] or [b"HELP"]
        return Batch("BSL-LIMS", window_end - dt.timedelta(seconds=self.rng.uniform(5, 200)),
                     lines)

    # --- scripts --------------------------------------------------------------------------------

    def deliveries_in_order(self) -> Iterator[Batch]:
        for batches in self.windows(self.events()):
            probe = self.scanner(batches[-1].received_at)
            yield from (sorted([*batches, probe], key=lambda b: b.received_at) if probe
                        else batches)

    def run(self) -> Iterator[Wait]:
        """The feed: sources registered at the start, then the deliveries in steps.

        A step takes the deliveries due before the next step of any other script (and at
        most `WINDOW` of them), moving the clock to each one's receive time: the records'
        steps keep their times, and the alerts' audit entries match their creation. One
        transaction per step."""
        self.register()
        services.reload_rules()  # correlation windows start empty
        deliveries = self.deliveries_in_order()
        batch = next(deliveries, None)
        while batch is not None:
            yield batch.received_at
            began, cpu = time.monotonic(), time.process_time()
            other = self.timeline.next_at()
            limit = batch.received_at + WINDOW
            if other is not None:
                limit = min(limit, other)
            with self.plant_enrichment(), transaction.atomic():
                self.ingest(batch)  # due now
                batch = next(deliveries, None)
                while batch is not None and batch.received_at < limit:
                    self.ingest(batch)
                    batch = next(deliveries, None)
            self.summary.seconds += time.monotonic() - began
            self.summary.cpu_seconds += time.process_time() - cpu

    def ingest(self, batch: Batch) -> None:
        self.clock.move_to(batch.received_at)
        channel = "qms" if batch.source == "QMS" else "syslog-udp"
        # Detected here, at each batch's moment of the replayed months: the loader is the one
        # process receiving while it runs (the detector later rebuilds its windows from them).
        result = services.ingest(self.sources[batch.source], batch.lines, channel=channel,
                                 received_at=batch.received_at, detect=True)
        self.summary.batches += 1
        self.summary.received += result.received
        self.summary.quarantined += result.quarantined
        for alert in result.alerts:
            if alert.pk not in self.seen:
                self.raised(alert)

    def raised(self, alert: Alert) -> None:
        self.seen.add(alert.pk)
        self.summary.alerts += 1
        truth = Truth()
        for sha in alert.events.values_list("sha256", flat=True):
            label, near_miss, instance = self.truth.get(sha, (None, None, None))
            if label and instance:
                truth.scenarios.add(label)
                truth.instances.add(instance)
            if near_miss:
                truth.near_misses.add(near_miss)
        for instance in sorted(truth.instances):
            if instance in self.first_alert:
                truth.duplicate_of = self.first_alert[instance]
            else:
                self.first_alert[instance] = alert.number
        when = self.acknowledge_at(alert)
        self.timeline.start(when, self.triage(alert.pk, truth), f"triage {alert.number}")

    def acknowledge_at(self, alert: Alert) -> dt.datetime:
        created = alert.created_at
        if alert.level == "critical":
            return created + self.minutes(3, 15)  # on call, day and night
        if alert.level == "high":
            on_call = not self.in_office(created)
            return created + (self.minutes(20, 90) if on_call else self.minutes(5, 30))
        if self.in_office(created):
            return self.office(created + self.minutes(30, 240))
        return self.office(created) + self.minutes(0, 90)

    def triage(self, pk: int, truth: Truth) -> Iterator[Wait]:
        """Acknowledge, investigate true detections, close with the reason."""
        rng = self.rng
        analyst, qa = self.cast.it_security, self.cast.qa_manager
        alert = Alert.objects.get(pk=pk)
        if alert.state == AlertState.NEW:
            services.alert_transition(alert, "acknowledge", actor=analyst)
        scenario = truth.attack
        false_positive, reason = self.verdict(alert, scenario)
        if truth.duplicate_of:
            false_positive = False
            reason = (f"Same attack as {truth.duplicate_of}, seen by another rule; handled "
                      "there.")
        serious = alert.level in ("high", "critical")
        if scenario and not false_positive and not truth.duplicate_of:
            yield self.clock.current + self.minutes(4, 40)
            alert = Alert.objects.get(pk=pk)
            if alert.state in (AlertState.NEW, AlertState.ACKNOWLEDGED):
                services.alert_transition(alert, "investigate", actor=analyst)
            long_haul = rng.random() < 0.12
            work = (dt.timedelta(days=rng.uniform(3, 9)) if long_haul
                    else self.minutes(60, 360) if serious else self.minutes(120, 1440))
            yield self.office(self.clock.current + work)
        else:
            yield self.clock.current + self.minutes(10, 75)
        closer = qa if scenario in DATA_INTEGRITY and rng.random() < 0.6 else analyst
        alert = Alert.objects.get(pk=pk)
        if alert.state in (AlertState.RESOLVED, AlertState.FALSE_POSITIVE):
            return
        action = "false_positive" if false_positive else "resolve"
        services.alert_transition(alert, action, actor=closer, reason=reason)
        if not false_positive and rng.random() < 0.06:
            # The same activity seen again a day later: reopened, then closed for good.
            yield self.office(self.clock.current + dt.timedelta(days=1))
            alert = Alert.objects.get(pk=pk)
            services.alert_transition(alert, "reopen", actor=analyst,
                                      reason="The same account showed up again from another "
                                             "host; looking at it once more.")
            yield self.clock.current + self.minutes(45, 180)
            alert = Alert.objects.get(pk=pk)
            services.alert_transition(alert, "resolve", actor=analyst,
                                      reason="Second occurrence was the user's own new "
                                             "laptop; first finding stands as resolved.")

    def verdict(self, alert: Alert, scenario: str | None) -> tuple[bool, str]:
        """(false positive?, reason) as the analyst would judge it."""
        if scenario is None:
            title = alert.title.lower()
            reason = next((text for word, text in BENIGN_BY_WORD if word in title), BENIGN)
            return True, reason
        share, authorised = AUTHORISED.get(scenario, (0.0, ""))
        if self.rng.random() < share:
            return True, authorised
        return False, RESOLVED.get(scenario, "Handled: contained, root cause found, "
                                             "documented in the incident record.")

    def finish(self) -> FeedSummary:
        """The figures for the loader's summary (alert states as the history ends)."""
        from cyberqms.security.monitoring import partitions

        # The weeks fed before today belong to their months (PostgreSQL's partitions).
        partitions.ensure_ahead(self.end)
        rows = Alert.objects.filter(pk__in=self.seen).values_list("state", flat=True)
        self.summary.states = Counter(rows)
        return self.summary


def schedule(loader: Any) -> MonitoringFeed:
    """Put the monitoring feed on the records loader's timeline (before it runs)."""
    days = max(3, round(DAYS * min(1.0, loader.scale)))
    feed = MonitoringFeed(loader.cast, loader.clock, loader.timeline, loader.end, days=days)
    loader.timeline.start(feed.start, feed.run(), "security monitoring")
    return feed
