"""HR updates from a CSV file: joiners created, movers and leavers updated, through the
account services, all or nothing.

One row per person. The columns, in any order (the header names them):

| Column | Meaning |
|---|---|
| `username` | required; a new one is a joiner |
| `full_name` | required for a joiner |
| `email` | |
| `title` | |
| `employee_id` | |
| `site` | site code |
| `department` | department code at the site |
| `manager` | the manager's username, in cyberqms or in the file |
| `leaver_at` | ISO date (18:00 at the person's site) or date and time |

An empty cell leaves the value as it is. A dry run (the default) answers what would
change, row by row, and every error with its row and column. Applying checks the same
and changes everything in one transaction, or nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from cyberqms.platform.accounts import employment
from cyberqms.platform.accounts import services as accounts
from cyberqms.platform.accounts.models import Department, Site, User
from cyberqms.platform.core.access import require

from . import actions
from .csv_rows import BatchResult, RowError, read_rows

COLUMNS = ("username", "full_name", "email", "title", "employee_id", "site", "department",
           "manager", "leaver_at")
MAX_ROWS = 5000
LEAVING_HOUR = 18


@dataclass
class Planned:
    row: int
    username: str
    action: str  # create, update, unchanged
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class ImportResult(BatchResult[Planned]):
    """What the HR file would change (or changed), row by row."""


def _leaving(text: str, site: Site | None) -> dt.datetime:
    """A date alone is 18:00 at the person's site (UTC without one)."""
    if "T" in text or " " in text.strip():
        moment = dt.datetime.fromisoformat(text.strip())
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=_zone(site))
        return moment
    day = dt.date.fromisoformat(text.strip())
    return dt.datetime.combine(day, dt.time(LEAVING_HOUR), tzinfo=_zone(site))


def _zone(site: Site | None) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(site.time_zone) if site else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def plan(data: bytes | str) -> tuple[ImportResult, list[dict[str, Any]]]:
    """Read and check the file; the rows, resolved, for `apply` (empty when in error)."""
    result = ImportResult()
    rows, errors = read_rows(data, columns=COLUMNS, required=("username",),
                             max_rows=MAX_ROWS)
    if errors:
        result.errors.extend(errors)
        return result, []
    people = {u.username.lower(): u for u in User.objects.filter(
        username__in=[r["username"] for r in rows if r.get("username")])}
    # Every username the file names as a manager, found in one query.
    managers = {u.username.lower(): u for u in User.objects.filter(
        username__in=[r.get("manager", "") for r in rows if r.get("manager")])}
    sites = {s.code: s for s in Site.objects.filter(is_active=True)}
    departments = {(d.site_id, d.code): d for d in Department.objects.filter(is_active=True)}
    in_file = {r["username"].lower() for r in rows if r.get("username")}
    seen: dict[str, int] = {}
    ids: dict[str, int] = {}
    taken_ids = dict(User.objects.exclude(employee_id="").values_list("employee_id", "username"))
    for row in rows:
        _check_row(row, result, people, managers, sites, departments, in_file, seen, ids,
                   taken_ids)
    _check_cycles(rows, people, result)
    if result.errors:
        return result, []
    return result, rows


def _check_row(row: dict[str, Any], result: ImportResult, people: dict[str, User],
               managers: dict[str, User], sites: dict[str, Site],
               departments: dict[tuple[int, str], Department], in_file: set[str],
               seen: dict[str, int], ids: dict[str, int], taken_ids: dict[str, str]) -> None:
    line, username = row["line"], row.get("username", "")
    errors = result.errors

    def fail(column: str, message: str) -> None:
        errors.append(RowError(line, column, message))

    if not username:
        fail("username", "Required.")
        return
    key = username.lower()
    if key in seen:
        fail("username", f"Also on line {seen[key]}.")
    seen[key] = line
    person = people.get(key)
    if person is None and not row.get("full_name"):
        fail("full_name", f"Required for a new person ({username}).")
    if person is not None and not person.is_active:
        fail("username", "The account is deactivated.")
    hr_id = row.get("employee_id", "")
    if hr_id:
        if hr_id in ids:
            fail("employee_id", f"Also on line {ids[hr_id]}.")
        ids[hr_id] = line
        holder = taken_ids.get(hr_id)
        if holder is not None and holder.lower() != key:
            fail("employee_id", f"{hr_id} is {holder}'s.")
    site = None
    if row.get("site"):
        site = sites.get(row["site"])
        if site is None:
            fail("site", f"No active site {row['site']!r}.")
    elif person is not None:
        site = person.site
    row["_site"] = site
    if row.get("department"):
        department = departments.get((site.pk, row["department"])) if site else None
        if department is None:
            fail("department", f"No department {row['department']!r} at "
                               f"{site.code if site else 'the site'}.")
        row["_department"] = department
    manager = row.get("manager", "")
    if manager:
        if manager.lower() == key:
            fail("manager", "Nobody is their own manager.")
        elif manager.lower() not in managers and manager.lower() not in in_file:
            fail("manager", f"No person {manager!r} in cyberqms or in the file.")
        elif manager.lower() in managers and not managers[manager.lower()].is_active:
            fail("manager", f"{manager} is deactivated.")
    if row.get("leaver_at"):
        try:
            leaves = _leaving(row["leaver_at"], site)
        except ValueError:
            fail("leaver_at", "A date (2027-03-31) or date and time (2027-03-31T17:00).")
        else:
            if leaves <= timezone.now():
                fail("leaver_at", "In the past: deactivate the account instead.")
            row["_leaver_at"] = leaves
    for name, limit in (("full_name", 200), ("email", 254), ("title", 200),
                        ("employee_id", 64), ("username", 150)):
        if len(row.get(name, "")) > limit:
            fail(name, f"At most {limit} characters.")
    result.planned.append(_planned(row, person))


def _planned(row: dict[str, Any], person: User | None) -> Planned:
    line, username = row["line"], row["username"]
    if person is None:
        return Planned(line, username, "create", {
            k: ("", str(row[k])) for k in COLUMNS if row.get(k) and k != "username"})
    now = {"full_name": person.full_name, "email": person.email, "title": person.title,
           "employee_id": person.employee_id,
           "site": person.site.code if person.site else "",
           "department": person.department.code if person.department else "",
           "manager": person.manager.username if person.manager else "",
           "leaver_at": timezone.localtime(person.leaver_at).isoformat()
           if person.leaver_at else ""}
    wanted = {k: row[k] for k in now if row.get(k)}
    if "_leaver_at" in row:
        wanted["leaver_at"] = row["_leaver_at"].isoformat()
    changes = {k: (now[k], v) for k, v in wanted.items()
               if (now[k] != v if k != "leaver_at" else
                   (person.leaver_at != row.get("_leaver_at")))}
    return Planned(line, username, "update" if changes else "unchanged", changes)


def _check_cycles(rows: list[dict[str, Any]], people: dict[str, User],
                  result: ImportResult) -> None:
    """The managers after the import, the file over cyberqms: no chain goes round."""
    chain = dict(User.objects.filter(manager__isnull=False).values_list(
        "username", "manager__username"))
    chain = {k.lower(): v.lower() for k, v in chain.items()}
    for row in rows:
        if row.get("manager"):
            chain[row["username"].lower()] = row["manager"].lower()
    for row in rows:
        start = row.get("username", "").lower()
        step, seen = chain.get(start), {start}
        while step is not None:
            if step in seen:
                result.errors.append(RowError(row["line"], "manager", (
                    f"{row['username']}'s managers go round in a circle.")))
                break
            seen.add(step)
            step = chain.get(step)


def hr_import(data: bytes | str, *, actor: Any, reason: str, apply: bool) -> ImportResult:
    """Check the file and, with `apply`, make every change it holds in one transaction.

    Side effects (applied): `accounts.user.create` for joiners (a one-time password each,
    to be reset by an administrator before first sign-in), `accounts.user.employment` for
    the rest, each audited as `actor`'s with `reason`.
    """
    require(actor, actions.HR_IMPORT)
    result, rows = plan(data)
    if not apply or result.errors:
        return result
    if not (reason or "").strip():
        result.errors.append(RowError(0, "reason", "Say why (the HR extract, its date)."))
        return result
    with transaction.atomic():
        made: dict[str, User] = {}
        for row in rows:
            person = User.objects.filter(username__iexact=row["username"]).first()
            if person is None:
                person = accounts.user_create(
                    actor=actor, username=row["username"], full_name=row["full_name"],
                    email=row.get("email", ""), title=row.get("title", ""),
                    site=row.get("_site"), department=row.get("_department"),
                    reason=reason).user
            made[row["username"].lower()] = person
        for row, planned in zip(rows, result.planned, strict=True):
            if planned.action == "unchanged":
                continue
            person = made[row["username"].lower()]
            _update(person, row, made, actor, reason, created=planned.action == "create")
    result.applied = True
    return result


def _update(person: User, row: dict[str, Any], made: dict[str, User], actor: Any,
            reason: str, *, created: bool) -> None:
    values: dict[str, Any] = {}
    if not created:
        values |= {k: row[k] for k in ("full_name", "email", "title") if row.get(k)}
    if row.get("employee_id"):
        values["employee_id"] = row["employee_id"]
    if row.get("manager"):
        values["manager"] = made.get(row["manager"].lower()) or User.objects.get(
            username__iexact=row["manager"])
    if "_leaver_at" in row:
        values["leaver_at"] = row["_leaver_at"]
    if not created and (row.get("site") or row.get("department")):
        site, department = row.get("_site"), row.get("_department", person.department
                                                     if row.get("_site") == person.site
                                                     else None)
        if (person.site_id, person.department_id) != (getattr(site, "pk", None),
                                                      getattr(department, "pk", None)):
            person = employment.user_place_set(person, actor=actor, site=site,
                                               department=department, reason=reason)
    if values:
        employment.user_employment_set(person, actor=actor, reason=reason, **values)
