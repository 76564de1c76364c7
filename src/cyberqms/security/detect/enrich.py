"""Enrichment between normalization and detection: what one event cannot say by itself.

    enricher = Enricher({"BSL": "Europe/Zurich", "DUB": "Europe/Dublin"},
                        InMemoryDirectory({"kfischer": "departed"}),
                        {"BSL-PLC": "plc", "lims": "lims"})
    for event in normalized:
        engine.evaluate(enricher.enrich(event))

``Enricher.enrich`` fills, in place, the fields the GxP rule pack reads but no input format
carries (see ``detection/rules/README.md``):

- ``gxp.hour`` (0-23) and ``gxp.weekday`` (ISO, 1 = Monday) in the local time of the
  event's site (``gxp.site``), from ``time``. UTC offsets are cached per site and hour, so
  most events cost two integer divisions.
- ``gxp.system_kind`` (``plc``, ``scada``, ``dcs``, ``hmi``, ``lims``, ``mes``, ``cds``,
  ``directory``, ``firewall``, ``qms`` …) looked up by ``gxp.system``, then by the source
  name (``metadata.log_name``).
- ``gxp.user_status`` (``active``, ``disabled``, ``departed``) and ``actor.user.disabled``
  for the acting user, from a ``UserDirectory`` and from what the stream itself said:
  an account-change event that disables a user (Windows 4725, cyberqms
  ``account.deactivated``: OCSF 3001 activity 5) marks that user disabled until one that
  enables it (activity 2). ``gxp.work_pattern`` (``day``, ``shift``, ``service``) when the
  directory knows the user's working pattern (``schedule(username)``).
- ``gxp.new_account`` (true) on account changes whose target account was created in the
  stream (OCSF 3001 activity 1) less than 24 hours before: a role or group granted to a
  fresh account.

Pure Python, no Django (the accounts directory is the monitoring app's). Not
thread-safe: one enricher per stream, like the detection engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

HOUR_MS: Final = 3_600_000
DAY_MS: Final = 24 * HOUR_MS
ACCOUNT_CHANGE: Final = 3001
CREATE, ENABLE, DISABLE, DELETE = 1, 2, 5, 6
NEW_ACCOUNT_MS: Final = DAY_MS  # how long an account created in the stream counts as new
STATUS_FAILURE: Final = 2

ACTIVE, DISABLED, DEPARTED = "active", "disabled", "departed"
INACTIVE_STATUSES: Final = frozenset({DISABLED, DEPARTED, "terminated", "left"})
WORK_PATTERNS: Final = frozenset({"day", "shift", "service"})

# Source kinds as registered (or as the synthetic plant names them) → the system kinds
# the rule pack reads. Unlisted kinds pass through lower-cased.
SYSTEM_KIND_ALIASES: Final = {
    "dc": "directory", "ad": "directory", "ldap": "directory", "domain_controller": "directory",
    "idp": "directory", "fw": "firewall", "ngfw": "firewall", "cyberqms": "qms",
}  # fmt: skip
_MAX_CACHED_HOURS: Final = 4096


@runtime_checkable
class UserDirectory(Protocol):
    """Where account status comes from: ``active``, ``disabled``, ``departed`` or ``None``
    for a user the directory does not know."""

    def status(self, username: str) -> str | None: ...


def user_key(username: str) -> str:
    """The directory key of a user name: lower-cased, domain prefix or suffix dropped
    (``PHARMA\\KFischer`` and ``kfischer@pharma.example`` are ``kfischer``)."""
    name = username.rpartition("\\")[2]
    if "@" in name:
        name = name.partition("@")[0]
    return name.lower()


class InMemoryDirectory:
    """A directory held in dicts: ``statuses`` (user → active/disabled/departed) and,
    optionally, ``schedules`` (user → day/shift/service working pattern)."""

    def __init__(
        self,
        statuses: Mapping[str, str] | None = None,
        *,
        schedules: Mapping[str, str] | None = None,
    ) -> None:
        self._statuses = {user_key(k): v for k, v in (statuses or {}).items()}
        self._schedules = {user_key(k): v for k, v in (schedules or {}).items()}

    def status(self, username: str) -> str | None:
        return self._statuses.get(user_key(username))

    def schedule(self, username: str) -> str | None:
        return self._schedules.get(user_key(username))

    def set_status(self, username: str, status: str) -> None:
        self._statuses[user_key(username)] = status


class Enricher:
    """Adds site-local time, system kind and user status to normalized events.

    ``sites``: site code → IANA time zone name; events of other sites get ``default_tz``
    (``None``: no hour/weekday). ``system_kinds``: system or source name → kind (keys are
    matched case-insensitively). ``learn``: follow account disable/enable events in the
    stream (on by default).
    """

    def __init__(
        self,
        sites: Mapping[str, str],
        directory: UserDirectory | None = None,
        system_kinds: Mapping[str, str] | None = None,
        *,
        default_tz: str | None = "UTC",
        learn: bool = True,
    ) -> None:
        self._zones: dict[str | None, ZoneInfo | None] = {
            code: ZoneInfo(tz) for code, tz in sites.items()
        }
        self._default = ZoneInfo(default_tz) if default_tz else None
        # (site, hour bucket) → UTC offset in ms; bounded, cleared when full.
        self._offsets: dict[tuple[str | None, int], int] = {}
        self._kinds = {
            k.lower(): SYSTEM_KIND_ALIASES.get(v.lower(), v.lower())
            for k, v in (system_kinds or {}).items()
        }
        self._directory = directory
        schedule = getattr(directory, "schedule", None)
        self._schedule = schedule if callable(schedule) else None
        self._learn = learn
        self._learned: dict[str, str] = {}  # user key → status seen in the stream
        self._users: dict[str, tuple[str | None, str | None]] = {}  # name → (status, pattern)
        self._created: dict[str, int] = {}  # user key → creation time (ms), seen in the stream

    # -- time ---------------------------------------------------------------------------

    def _offset(self, site: str | None, ms: int) -> int | None:
        bucket = ms // HOUR_MS
        key = (site, bucket)
        offset = self._offsets.get(key)
        if offset is not None:
            return offset
        zone = self._zones.get(site, self._default)
        if zone is None:
            return None
        offset = _offset_ms(zone, bucket * 3600)
        if offset != _offset_ms(zone, bucket * 3600 + 3599):
            # A transition inside this hour (zones changing at half hours): not cached.
            return _offset_ms(zone, ms / 1000)
        if len(self._offsets) >= _MAX_CACHED_HOURS:
            self._offsets.clear()
        self._offsets[key] = offset
        return offset

    def local_time(self, site: str | None, ms: int) -> tuple[int, int] | None:
        """(hour 0-23, ISO weekday 1-7) of epoch milliseconds at a site."""
        offset = self._offset(site, ms)
        if offset is None:
            return None
        local = ms + offset
        # 1970-01-01 was a Thursday (ISO 4).
        return (local // HOUR_MS) % 24, (local // DAY_MS + 3) % 7 + 1

    # -- users --------------------------------------------------------------------------

    def _user(self, name: str) -> tuple[str | None, str | None]:
        cached = self._users.get(name)
        if cached is not None:
            return cached
        key = user_key(name)
        status = self._learned.get(key)
        if status is None and self._directory is not None:
            status = self._directory.status(name)
        pattern = self._schedule(name) if self._schedule is not None else None
        found = (status, pattern)
        if len(self._users) >= 65_536:
            self._users.clear()
        self._users[name] = found
        return found

    def adopt_stream_memory(self, other: Enricher) -> None:
        """Carry over what ``other`` learned from the stream (accounts created, disabled
        or enabled), e.g. when the enricher is rebuilt with fresh sites and directory."""
        self._learned = other._learned
        self._created = other._created

    def forget_users(self) -> None:
        """Drop cached directory answers (after the directory changed)."""
        self._users.clear()

    def _follow(self, event: dict[str, Any], gxp: dict[str, Any]) -> None:
        """Learn from an account change: creation, disable, enable, delete."""
        if event.get("status_id") == STATUS_FAILURE:
            return
        target = event.get("user")
        name = target.get("name") if target.__class__ is dict else None
        if not isinstance(name, str) or not name:
            return
        key = user_key(name)
        activity = event.get("activity_id")
        ms = event.get("time")
        if activity == CREATE:
            if ms.__class__ is int:
                if len(self._created) >= 65_536:
                    self._created.clear()
                self._created[key] = ms
            return
        created = self._created.get(key)
        if created is not None and ms.__class__ is int:
            if 0 <= ms - created <= NEW_ACCOUNT_MS:
                gxp["new_account"] = True
            else:
                del self._created[key]
        if activity in (ENABLE, DISABLE, DELETE):
            self._learned[key] = ACTIVE if activity == ENABLE else (
                DISABLED if activity == DISABLE else DEPARTED
            )
            self._users.clear()

    # -- the step -----------------------------------------------------------------------

    def enrich(self, event: dict[str, Any]) -> dict[str, Any]:
        """Fill the enrichment fields of one normalized event (in place) and return it."""
        gxp = event.get("gxp")
        if gxp.__class__ is not dict:
            gxp = event["gxp"] = {}
        ms = event.get("time")
        if ms.__class__ is int:
            local = self.local_time(gxp.get("site"), ms)
            if local is not None:
                gxp["hour"], gxp["weekday"] = local
        if self._kinds and not gxp.get("system_kind"):
            system = gxp.get("system")
            kind = self._kinds.get(system.lower()) if isinstance(system, str) else None
            if kind is None:
                log_name = event.get("metadata", {}).get("log_name")
                if isinstance(log_name, str):
                    kind = self._kinds.get(log_name.lower())
            if kind is not None:
                gxp["system_kind"] = kind
        if self._learn and event.get("class_uid") == ACCOUNT_CHANGE:
            self._follow(event, gxp)
        actor = event.get("actor")
        user = actor.get("user") if actor.__class__ is dict else None
        name = user.get("name") if user.__class__ is dict else None
        if name.__class__ is str and name:
            status, pattern = self._user(name)
            if status is not None:
                gxp["user_status"] = status
                # `name` is set only when `user` is a dict; `__class__ is dict` does not narrow.
                user["disabled"] = status in INACTIVE_STATUSES  # type: ignore[index]  # see above
            if pattern is not None:
                gxp["work_pattern"] = pattern
        return event


def _offset_ms(zone: ZoneInfo, seconds: float) -> int:
    offset = datetime.fromtimestamp(seconds, zone).utcoffset()
    return int(offset.total_seconds() * 1000) if offset is not None else 0


def sites_from_plant(plant: Any) -> dict[str, str]:
    """Site code → time zone name of a synthetic plant (``synthetic.build_plant()``)."""
    return {code: site.tz.key for code, site in plant.sites.items()}
