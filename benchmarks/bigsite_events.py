"""Security events for the big-site generator (`bigsite.py`): the plant's systems
registered as event sources, and a year of received events as ingest stores them."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from typing import Any

from bigsite import Cast, Writer, moment

EVENT_CHUNK = 50_000  # events per COPY
POOL = 20_000  # event templates rendered and parsed
QUARANTINE_SHARE = 0.001  # lines cut by a UDP path (quarantined as `truncated` or the like)
# The plant's kinds of people, for its line renderers.
PLANT_ROLE = {"author": "qc_analyst", "process_owner": "engineer", "qa_reviewer": "qa",
              "qa_manager": "manager", "it_security": "security", "system_owner": "admin",
              "auditor": "manager"}
# Plant source kinds and the share of events each sends (the synthetic plant's own mix).
EVENT_MIX = {"firewall": 53, "dc": 19, "mes": 13, "lims": 5, "scada": 4, "cds": 3, "plc": 3}


def ensure_sources(cast: Cast, start: dt.datetime) -> dict[str, Any]:
    """One event source per plant system (as the demo registers them), by plant source id."""
    from cyberqms.demo.monitoring import FORMAT, KIND
    from cyberqms.demo.plant import build_plant
    from cyberqms.demo.records.clock import SimulatedClock, simulated_time
    from cyberqms.platform.core.context import RequestContext, acting_context
    from cyberqms.security.monitoring import services
    from cyberqms.security.monitoring.models import EventSource

    plant = build_plant()
    sites = {s.code: s for s in cast.sites}
    found: dict[str, Any] = {}
    wanted = [src for src in plant.sources.values() if src.kind in EVENT_MIX]
    missing = [src for src in wanted
               if not EventSource.objects.filter(name=f"{src.host} ({src.product})").exists()]
    if missing:
        analyst = cast.first("it_security")
        clock = SimulatedClock(start - dt.timedelta(days=1))
        with simulated_time(clock), acting_context(RequestContext(channel="cli")):
            for src in missing:
                services.source_create(
                    actor=analyst, name=f"{src.host} ({src.product})", kind=KIND[src.kind],
                    system=src.product, format=FORMAT[src.format],
                    site=sites[src.site.code], addresses=[f"{src.ip}/32"])
    for src in wanted:
        found[src.id] = EventSource.objects.get(name=f"{src.host} ({src.product})")
    return found


def searched(event: dict[str, Any]) -> tuple[int | None, str, str]:
    """The columns ingest fills from a normalized event to search by: OCSF class, actor,
    source address (monitoring/services.py)."""
    actor = event.get("actor")
    user = actor.get("user") if isinstance(actor, dict) else None
    name = user.get("name") if isinstance(user, dict) else None
    src = event.get("src_endpoint")
    ip = src.get("ip") if isinstance(src, dict) else None
    uid = event.get("class_uid")
    return (uid if isinstance(uid, int) and uid >= 0 else None,
            name[:150] if isinstance(name, str) else "", ip[:45] if isinstance(ip, str) else "")


@dataclass(frozen=True)
class Template:
    """A plant line with its time left out, and the columns ingest filled for it."""

    source: Any  # the EventSource
    head: str
    tail: str
    clock: str  # how the time is written: "ms" (epoch milliseconds), "iso" or "bsd"
    whole_seconds: bool  # the format keeps seconds only (RFC 3164)
    class_uid: int | None
    actor: str
    src_ip: str


def _templates(sources: dict[str, Any], cast: Cast, size: int,
               rng: random.Random) -> list[Template]:
    """`size` lines rendered by the plant's normal-traffic renderers with this site's people
    and parsed by the product's parsers, each made a template by cutting out its time."""
    from cyberqms.demo.plant import NORMAL_TRAFFIC, Clock, build_plant
    from cyberqms.demo.plant import Person as PlantPerson
    from cyberqms.security.detect import ocsf
    from cyberqms.security.detect.parsers import parse_line
    from cyberqms.security.detect.parsers.errors import ParseError
    from cyberqms.security.monitoring.services import source_info

    plant = build_plant()
    people: dict[str, list[PlantPerson]] = {}
    codes = {s.pk: s.code for s in cast.sites}
    for person in cast.people:
        user = person.user
        code = codes.get(user.site_id, "")
        if code in plant.sites:
            role = "operator" if user.work_pattern == "shift" else PLANT_ROLE[person.role]
            people.setdefault(code, []).append(PlantPerson(
                user.username, user.full_name, code, role,
                f"{code}-PC-{user.pk % 10_000:04d}", person.ip, "office"))
    by_kind: dict[str, list[Any]] = {}
    for src in plant.sources.values():
        if src.id in sources:
            by_kind.setdefault(src.kind, []).append(src)
    kinds = [k for k in EVENT_MIX if k in by_kind]
    weights = [EVENT_MIX[k] for k in kinds]
    marker = 1_772_439_816_838  # a time with milliseconds, to find in each line
    clock = Clock()
    found: list[Template] = []
    tries = 0
    while len(found) < size and tries < size * 20:
        tries += 1
        src = rng.choice(by_kind[rng.choices(kinds, weights)[0]])
        traffic = NORMAL_TRAFFIC[src.kind]
        # Only people whose kind of work uses the system, as the plant's streams choose.
        staff = [p for p in people.get(src.site.code, ()) if traffic.per_hour.get(p.role)]
        person = rng.choice(staff) if staff and rng.random() < 0.8 else None
        lines: list[tuple[int, str]] = []
        traffic.render(rng, plant, src, clock, marker, person, lines.append)
        source = sources[src.id]
        info = source_info(source)
        for ms, line in lines:
            written = {"ms": str(ms), "iso": clock.iso(ms), "bsd": clock.bsd(ms)}
            how = "ms" if src.format == "cef" else "bsd" if src.format == "rfc3164" else "iso"
            if line.count(written[how]) != 1:
                continue
            head, tail = line.split(written[how])
            received = moment(ms / 1000 + 1)
            try:
                parsed = parse_line(line.encode(), source.format, received_at=received)
                event = ocsf.normalize(parsed, source=info, received_ms=ms + 1000)
            except ParseError:
                continue
            claimed = event.get("time")
            if claimed not in (ms, ms - ms % 1000):
                continue
            found.append(Template(source, head, tail, how, claimed != ms, *searched(event)))
    if not found:
        raise SystemExit("bigsite: no plant line could be made a template")
    return found


def add_events(count: int, sources: dict[str, Any], cast: Cast, start: dt.datetime,
               end: dt.datetime, writer: Writer, rng: random.Random) -> None:
    """`count` received events over the period, in time order, as ingest stores them, with
    the rollups ingest keeps."""

    if count <= 0:
        return
    with writer.progress.phase("events") as began:
        _events(count, sources, cast, start, end, writer, rng, began)


def _events(count: int, sources: dict[str, Any], cast: Cast, start: dt.datetime,
            end: dt.datetime, writer: Writer, rng: random.Random, began: float) -> None:
    from django.db import transaction

    from cyberqms.demo.plant import Clock
    from cyberqms.security.detect import ocsf
    from cyberqms.security.detect.parsers import parse_line
    from cyberqms.security.detect.parsers.errors import ParseError
    from cyberqms.security.monitoring import partitions, rollups
    from cyberqms.security.monitoring.models import RawEvent
    from cyberqms.security.monitoring.services import source_info, time_policy

    templates = _templates(sources, cast, min(POOL, max(count // 5, 50)), rng)
    db = writer.db
    # The year's months on PostgreSQL, made before the rows arrive (the default partition
    # would take them otherwise, to be moved at the next retention run).
    partitions.ensure_months(start, end + dt.timedelta(minutes=1), db.alias)
    adapt = db.ops.adapt_datetimefield_value
    place = time_policy().place
    clock = Clock()
    columns = ("id", "source_id", "received_at", "channel", "sha256", "size", "payload",
               "status", "reason", "detail", "event", "event_time", "class_uid", "actor",
               "src_ip", "timing")
    copy_sql = f"COPY {RawEvent._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    insert_sql = (f"INSERT INTO {RawEvent._meta.db_table} ({', '.join(columns)}) "
                  f"VALUES ({', '.join(['%s'] * len(columns))})")
    first_ms = int(start.timestamp() * 1000)
    step = (int(end.timestamp() * 1000) - first_ms) / count
    sha256 = hashlib.sha256
    random_ = rng.random
    pick = rng.choice
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    for chunk_start in range(0, count, EVENT_CHUNK):
        size = min(EVENT_CHUNK, count - chunk_start)
        rows: list[list[Any]] = []
        ids = [writer.next_id(RawEvent) for _ in range(size)]
        for n in range(size):
            ms = first_ms + int((chunk_start + n + random_()) * step)
            template = pick(templates)
            when = template.clock
            text = str(ms) if when == "ms" else clock.iso(ms) if when == "iso" else (
                clock.bsd(ms))
            data = f"{template.head}{text}{template.tail}".encode()
            received_ms = ms + int(300 + random_() * 2200)
            received = epoch + dt.timedelta(milliseconds=received_ms)
            source = template.source
            if random_() < QUARANTINE_SHARE and len(data) > 160:
                data = data[: rng.randint(60, 140)]
                try:
                    parsed = parse_line(data, source.format, received_at=received)
                    event = ocsf.normalize(parsed, source=source_info(source),
                                           received_ms=received_ms)
                except ParseError as exc:
                    rows.append([ids[n], source.pk, adapt(received), "syslog-udp",
                                 sha256(data).hexdigest(), len(data), data, "quarantined",
                                 exc.reason[:40], str(exc)[:300], None, None, None, "", "",
                                 ""])
                    continue
                claimed = event.get("time")
                columns_of = searched(event)
            else:
                claimed = ms - ms % 1000 if template.whole_seconds else ms
                columns_of = (template.class_uid, template.actor, template.src_ip)
            timing = place(claimed, received_ms).timing if isinstance(claimed, int) else ""
            event_time = (adapt(epoch + dt.timedelta(milliseconds=claimed))
                          if isinstance(claimed, int) else None)
            rows.append([ids[n], source.pk, adapt(received), "syslog-udp",
                         sha256(data).hexdigest(), len(data), data, "accepted", "", "", None,
                         event_time, *columns_of, timing])
        with transaction.atomic(), db.cursor() as cursor:
            if writer.postgres:
                with cursor.cursor.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(insert_sql, rows)
        writer.progress.rows[RawEvent._meta.db_table] += size
        writer.progress.note("events", chunk_start + size, count, began)
    # The rollups ingest keeps, counted from the raw events as the upgrade to them did
    # (ingest's per-batch upserts would cost one statement per source and minute here:
    # events spread over a year share few minutes).
    rollups.rebuild()
