"""The accounts of a computerized system, from the user list its owner exports from it.

A LIMS, a chromatography data system or a SCADA keeps its own accounts; cyberqms cannot
read them, so the system's owner (or IT security) imports the system's user list as CSV,
one row per account, the columns in any order:

| Column | Meaning |
|---|---|
| `account` | required: the account's name in the system |
| `privilege` | required: its role or group there ("Analyst", "Administrator") |
| `person` | who answers for it: a cyberqms username, e-mail or employee id (1) |
| `name` | the name the system shows for it |
| `privileged` | `yes` when it administers the system (empty: no) |
| `last_login` | its last sign-in as the system says: ISO date or date and time (2) |
| `enabled` | `no` for an account the system lists but has disabled (empty: yes) |

(1) Empty: the person whose username or e-mail is the account's name, else nobody (a
shared or unknown account, which the review and the drift scan point out).
(2) UTC when the time has no zone.

The list is the whole truth of its day: an account in force that it no longer holds (or
holds disabled) is marked removed. A dry run answers what each row would change and every
error with its line and column; applying checks the same and changes everything in one
transaction, each account's change audited, or nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from cyberqms.platform.accounts.models import User
from cyberqms.platform.core.access import require
from cyberqms.platform.trail.record import audit_record, snapshot

from . import actions
from .csv_rows import BatchResult, RowError, read_rows
from .models import SystemAccount

COLUMNS = ("account", "privilege", "person", "name", "privileged", "last_login", "enabled")
MAX_ROWS = 20000
TYPE = "access.system_account"
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0", ""}


@dataclass
class Planned:
    row: int  # the file's line; 0: an account the list no longer holds
    account: str
    action: str  # create, update, unchanged, remove
    person: str = ""  # the username it is matched to
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class AccountsImport(BatchResult[Planned]):
    """What the user list would change (or changed), account by account."""

    ACTIONS: ClassVar[tuple[str, ...]] = ("create", "update", "unchanged", "remove")

    @property
    def unmatched(self) -> int:
        """Accounts in force after the import that no person answers for."""
        return sum(1 for p in self.planned if p.action != "remove" and not p.person)


def _flag(text: str) -> bool | None:
    low = text.strip().lower()
    return True if low in _YES else False if low in _NO else None


def _moment(text: str) -> dt.datetime:
    if "T" in text or " " in text.strip():
        moment = dt.datetime.fromisoformat(text.strip())
        return moment if timezone.is_aware(moment) else moment.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(dt.date.fromisoformat(text.strip()), dt.time(), tzinfo=dt.UTC)


def _people(rows: list[dict[str, Any]]) -> dict[str, User]:
    """Every person the rows may name, by lower-cased username, e-mail and employee id,
    found in one query."""
    names = {r.get("person", "").lower() for r in rows} | {
        r.get("account", "").lower() for r in rows}
    names.discard("")
    found: dict[str, User] = {}
    people = User.objects.annotate(lower_username=Lower("username"), lower_email=Lower("email"))
    for user in people.filter(Q(lower_username__in=names) | Q(lower_email__in=names)
                              | Q(employee_id__in=names)).order_by("pk"):
        for key in (user.username, user.email, user.employee_id):
            if key:
                found.setdefault(key.lower(), user)
    return found


def plan(system: Any, data: bytes | str) -> tuple[AccountsImport, list[dict[str, Any]]]:
    """Read and check the list; the rows, resolved, for `apply` (empty when in error)."""
    result = AccountsImport()
    rows, errors = read_rows(data, columns=COLUMNS, required=("account", "privilege"),
                             max_rows=MAX_ROWS)
    if errors:
        result.errors.extend(errors)
        return result, []
    people = _people(rows)
    known = {a.account.lower(): a for a in SystemAccount.objects.filter(
        system=system).select_related("person")}
    seen: dict[str, int] = {}
    listed: set[str] = set()
    now = timezone.now()
    for row in rows:
        _check(row, result, people, seen, now)
        if row.get("_enabled", True) and row.get("account"):
            listed.add(row["account"].lower())
    if result.errors:
        return result, []
    for row in rows:
        if row["_enabled"]:
            result.planned.append(_planned(row, known.get(row["account"].lower())))
    for key, account in sorted(known.items()):
        if account.removed_at is None and key not in listed:
            result.planned.append(Planned(0, account.account, "remove",
                                          account.person.username if account.person else "",
                                          {"in the system": ("yes", "no")}))
    return result, [r for r in rows if r["_enabled"]]


def _check(row: dict[str, Any], result: AccountsImport, people: dict[str, User],
           seen: dict[str, int], now: dt.datetime) -> None:
    line, account = row["line"], row.get("account", "")

    def fail(column: str, message: str) -> None:
        result.errors.append(RowError(line, column, message))

    if not account:
        fail("account", "Required.")
    elif account.lower() in seen:
        fail("account", f"Also on line {seen[account.lower()]}.")
    else:
        seen[account.lower()] = line
    if not row.get("privilege"):
        fail("privilege", "Required: the account's role or group in the system.")
    for name, limit in (("account", 150), ("privilege", 100), ("name", 200),
                        ("person", 254)):
        if len(row.get(name, "")) > limit:
            fail(name, f"At most {limit} characters.")
    for name in ("privileged", "enabled"):
        value = _flag(row.get(name, ""))
        if value is None:
            fail(name, "yes or no.")
        row[f"_{name}"] = bool(value) if name == "privileged" else (
            value is not False or not row.get(name, "").strip())
    row["_last_login"] = None
    if row.get("last_login"):
        try:
            row["_last_login"] = _moment(row["last_login"])
        except ValueError:
            fail("last_login", "A date (2026-11-30) or date and time (2026-11-30T08:15:00Z).")
        else:
            if row["_last_login"] > now + dt.timedelta(minutes=5):
                fail("last_login", "In the future.")
    named = row.get("person", "")
    person = people.get(named.lower()) if named else people.get(account.lower())
    if not named and person is not None and account.lower() not in (
            person.username.lower(), person.email.lower()):
        person = None  # an account's own name matches a username or e-mail, nothing else
    if named and person is None:
        fail("person", f"No person {named!r} in cyberqms (a username, e-mail or "
                       "employee id; leave it empty for a shared account).")
    row["_person"] = person


def _values(row: dict[str, Any]) -> dict[str, Any]:
    return {"person": row["_person"], "listed_name": row.get("name", ""),
            "privilege": row["privilege"], "privileged": row["_privileged"],
            "last_login_at": row["_last_login"]}


def _shown(value: Any) -> str:
    if isinstance(value, User):
        return value.username
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _planned(row: dict[str, Any], account: SystemAccount | None) -> Planned:
    values = _values(row)
    person = values["person"].username if values["person"] else ""
    if account is None:
        return Planned(row["line"], row["account"], "create", person,
                       {k: ("", _shown(v)) for k, v in values.items() if v not in (None, "")})
    changes = {k: (_shown(getattr(account, k)), _shown(v)) for k, v in values.items()
               if getattr(account, k) != v}
    if account.removed_at is not None:
        changes["in the system"] = ("no", "yes")
    return Planned(row["line"], row["account"], "update" if changes else "unchanged", person,
                   changes)


def accounts_import(system: Any, data: bytes | str, *, actor: Any, reason: str,
                    apply: bool) -> AccountsImport:
    """Check the user list of `system` and, with `apply`, bring its accounts up to it in
    one transaction.

    Side effects (applied): `access.system_account.create`, `.update` and `.remove`
    audit entries as `actor`'s with `reason`; every listed account's `listed_at`.
    :raises PermissionDenied: `actor` may not import the accounts of `system`.
    """
    require(actor, actions.ACCOUNTS_IMPORT, system)
    result, rows = plan(system, data)
    if not apply or result.errors:
        return result
    if not (reason or "").strip():
        result.errors.append(RowError(0, "reason", "Say why (the export, its date)."))
        return result
    now = timezone.now()
    with transaction.atomic():
        known = {a.account.lower(): a for a in SystemAccount.objects.select_for_update()
                 .filter(system=system)}
        for row, planned in zip(rows, [p for p in result.planned if p.row], strict=True):
            account = known.get(row["account"].lower())
            if account is None:
                account = SystemAccount.objects.create(
                    system=system, account=row["account"], first_listed_at=now,
                    listed_at=now, **_values(row))
                audit_record(f"{TYPE}.create", account, actor=actor, created=True,
                             reason=reason)
                continue
            before = snapshot(account)
            for name, value in _values(row).items():
                setattr(account, name, value)
            account.listed_at, account.removed_at = now, None
            account.save()
            if planned.action == "update":
                audit_record(f"{TYPE}.update", account, actor=actor, before=before,
                             reason=reason)
        for planned in result.planned:
            if planned.action != "remove":
                continue
            account = known[planned.account.lower()]
            before = snapshot(account)
            account.removed_at = now
            account.save(update_fields=["removed_at"])
            audit_record(f"{TYPE}.remove", account, actor=actor, before=before,
                         reason=reason)
    result.applied = True
    return result


def last_sign_ins(system: Any, accounts: list[SystemAccount], *,
                  days: int | None = None) -> dict[int, dt.datetime]:
    """The last sign-in of each account, by account id: the later of what the user list
    says and the newest successful sign-in that the system's event sources sent to
    monitoring in the last `days` (the review period's unused-rights days) under the
    account's name. One query over the events, on their time index."""
    from django.conf import settings
    from django.db.models import Max

    from cyberqms.security.detect.ocsf import AUTHENTICATION
    from cyberqms.security.monitoring.models import RawEvent

    days = days if days is not None else settings.CYBERQMS_ACCESS_UNUSED_HIGH_DAYS
    names = {a.account.lower(): a for a in accounts}
    seen: dict[int, dt.datetime] = {a.pk: a.last_login_at for a in accounts
                                    if a.last_login_at is not None}
    if not names:
        return seen
    since = timezone.now() - dt.timedelta(days=days)
    events = (RawEvent.objects.filter(received_at__gte=since, source__gxp_system=system,
                                      class_uid=AUTHENTICATION, event__status_id=1)
              .annotate(name=Lower("actor")).filter(name__in=list(names))
              .values("name").annotate(last=Max("received_at")))
    for row in events:
        account = names[row["name"]]
        if account.pk not in seen or row["last"] > seen[account.pk]:
            seen[account.pk] = row["last"]
    return seen
