"""Schemathesis over the whole API as a user (issue 12, item 8).

Every operation in /api/v1/openapi.json is called with generated requests by a QA manager
of one site, through a bearer token: valid input (positive), invalid input (negative) and
valid input aimed at things that exist (records of every family at her site and at another,
their attachments, links, extensions, CAPA actions, change tasks, audit entries, people,
role grants, a spare token of hers). The Django application is called in process through
WSGI, so every write lands in the test database and is rolled back with the test.

Each answer must not be a server error, must have a status that the schema documents for
the operation, with the documented content type, and a documented JSON body must match its
schema. Examples are bounded and derandomized: the same requests on every run.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cyberqms.api import api

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/v1/openapi.json"
OPENAPI = api.get_openapi_schema(path_prefix="/api/v1/")
OPERATIONS = sorted(
    operation["operationId"] for path in OPENAPI["paths"].values() for operation in path.values()
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Requests per operation: about 75 operations × 15 requests keep the module near a minute
# on two cores. A PDF takes a second or more to render, and its input is record_export's.
EXAMPLES = 15
FEWER_EXAMPLES = {"record_pdf": 6}
PARAMETER = re.compile(r"{(\w+)}")


def _body_properties(operation: dict[str, Any]) -> frozenset[str]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return frozenset()
    schema = content["schema"]
    if "$ref" in schema:
        schema = OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return frozenset(schema.get("properties", {}))


BODY_PROPERTIES = {
    operation["operationId"]: _body_properties(operation)
    for path in OPENAPI["paths"].values() for operation in path.values()
}


@functools.cache
def api_schema() -> Any:
    """The schema as a client reads it, once per process (it does not depend on data)."""
    return schemathesis.openapi.from_wsgi(SCHEMA_URL, WSGIHandler())


@pytest.fixture
def wsgi_keeps_connection() -> Iterator[None]:
    """Calls through WSGI end with `request_finished`, which closes a connection whose
    autocommit differs from the settings': the test's transaction. Django's test client
    disconnects that handler around each request; this does it around the test."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(personas: dict[str, Any], make_user: Callable[..., Any]) -> dict[str, Any]:
    """A QA manager of Munich with a token; what exists for her to reach, as the path
    parameters (`known`, by name) and body values (`values`, by property or by
    `operation.property`) that name it. Integrity flags and notifications have none (the
    latter are delivered on commit)."""
    from cyberqms.platform.accounts.models import RoleAssignment
    from cyberqms.platform.accounts.services import token_create
    from cyberqms.platform.accounts.tests.factories import SiteFactory
    from cyberqms.platform.kit.record_parts import attachment_add, extension_request, link_add
    from cyberqms.platform.kit.record_rows import row_add, rows_of_kind
    from cyberqms.platform.kit.records import kind_by_slug, kind_of
    from cyberqms.platform.kit.tests.kit import kit_families, record_in_state, samples
    from cyberqms.platform.trail.models import AuditEntry
    from cyberqms.platform.trail.services import trail_checkpoint
    from cyberqms.quality.capa import services as capa_services
    from cyberqms.quality.changes import services as changes
    from cyberqms.security.governance.models import ReviewItem

    munich = SiteFactory.create(code="MUC", name="Munich")
    zurich = SiteFactory.create(code="ZRH", name="Zurich")
    qa = make_user("qa_munich", "qa_manager", site=munich)
    author = personas["author"]

    def record(slug: str, state: str, site: Any = munich) -> Any:
        return record_in_state(kind_by_slug(slug), state, personas, site=site)

    # States reached without signatures (a signature waits out a TOTP step's last seconds).
    deviation = record("deviations", "open")
    capa = record("capa", "open")
    change = record("changes", "assessment")
    records = [deviation, record("deviations", "qa_review"), capa, change,
               record("complaints", "open"),
               record("incidents", kind_by_slug("incidents").initial_state),
               record("documents", "effective"),
               record("systems", "planned"), record("suppliers", "candidate"),
               record("evaluations", "draft"), record("risks", "draft"),
               record("deviations", "open", site=zurich),  # not hers to see
               record("access-reviews", "open")]  # with its items to decide
    # Every other family, in its first state: a family added later is fuzzed too.
    covered = {kind_of(r).slug for r in records}
    records += [record(kind.slug, kind.initial_state) for kind in kit_families()
                if kind.slug not in covered]
    attachment = attachment_add(deviation, actor=author, filename="logger.csv",
                                data=b"t,celsius\n02:00,9.4\n")
    link = link_add(deviation, actor=author, target_number=capa.number)
    extension = extension_request(deviation, actor=author,
                                  requested_due=timezone.localdate() + dt.timedelta(days=60),
                                  justification="Waiting for the sensor vendor")
    task = changes.change_task_add(change, actor=author, description="Install the printer",
                                   owner=author)
    capa_services.capa_action_add(capa, actor=author, kind="corrective",
                                  description="Door alarm escalates after 2 minutes",
                                  owner=author,
                                  due_date=timezone.localdate() + dt.timedelta(days=30))
    system = next(r for r in records if kind_of(r).slug == "systems")
    posture = row_add(system, rows_of_kind(kind_of(system), "posture"), actor=author,
                      values=samples(kind_of(system)).ROWS["posture"](system, personas))
    assessment = next(r for r in records if kind_of(r).slug == "risks")
    risk = row_add(assessment, rows_of_kind(kind_of(assessment), "risks"), actor=author,
                   values=samples(kind_of(assessment)).ROWS["risks"](assessment, personas))
    spare = token_create(actor=qa, owner=qa, name="spare", scopes=["records.use"], days=1)
    trail_checkpoint()  # proofs have a signed tree to refer to
    issued = token_create(actor=qa, owner=qa, name="fuzz", scopes=["*"], days=1)

    def pks(slug: str) -> list[int]:
        return [r.pk for r in records if kind_of(r).slug == slug]

    known: dict[str, list[Any]] = {
        "user_id": [qa.pk, author.pk, personas["admin"].pk],
        "assignment_id": list(RoleAssignment.objects.filter(user=qa).values_list("pk", flat=True)),
        "token_id": [spare.token.pk],
        "seq": list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)[:3]),
        "capa_id": pks("capa"),
        "action_id": list(capa.actions.values_list("pk", flat=True)),
        "change_id": pks("changes"),
        "task_id": [task.pk],
        "deviation_id": pks("deviations"),
        "attachment_id": [attachment.pk],
        "link_id": [link.pk],
        "extension_id": [extension.pk],
        "row_id": [posture.pk, risk.pk],
        "review_id": pks("access-reviews"),
        "item_id": list(ReviewItem.objects.values_list("pk", flat=True)),
    }
    people = ["qa_munich", "author", "process_owner"]
    values: dict[str, list[Any]] = {
        "site": ["MUC", "ZRH"], "owner": people, "target": [r.number for r in records],
        "relation": ["related"], "scopes": [["records.use"]], "days": [1],
        "kind": ["corrective"], "result": ["passed", "failed"],
        "role": ["author"], "username": ["newcomer"], "email": ["newcomer@x.test"],
        "title": ["Seal the cold-room door"], "description": ["Replace the door seal"],
        "due_date": [(timezone.localdate() + dt.timedelta(days=45)).isoformat()],
        "requested_due": [(timezone.localdate() + dt.timedelta(days=90)).isoformat()],
        "justification": ["The vendor ships the sensor late"], "reason": ["Fuzzed as QA"],
    }
    for slug in ("capa", "changes", "complaints", "deviations", "incidents", "systems",
                 "suppliers", "risks"):
        noun = kind_by_slug(slug).type_name.rsplit(".", 1)[-1]
        sample = samples(kind_by_slug(slug))
        values |= {f"{noun}_create.{name}": [as_json(value)]
                   for name, value in sample.CREATE.items()}
        if sample.FILL:
            values[f"{noun}_update.changes"] = [{name: as_json(value)}
                                                for name, value in sample.FILL.items()]
    return {
        "headers": {"Authorization": f"Bearer {issued.secret}"},
        "values": values,
        "known": known,
        "records": [(kind_of(r).slug, r.pk) for r in records],
        # The steps each record offers now, and one it does not (its family's first).
        "actions": {(kind_of(r).slug, r.pk): sorted(
            {t.action for t in kind_of(r).workflow.actions_from(r.state)}
            | {kind_of(r).workflow.transitions[0].action}) for r in records},
        "history": [{"object_type": "accounts.user", "object_id": str(qa.pk)},
                    {"object_type": kind_of(deviation).type_name, "object_id": str(deviation.pk)}],
    }


def as_json(value: Any) -> Any:
    """A sample value as a client sends it: dates in ISO 8601, people by username."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return getattr(value, "username", value)


def known_values(operation_id: str, world: dict[str, Any]) -> dict[str, list[Any]]:
    """Body values that name things in `world` (a site, a person, a record number) or
    that the family's samples hold, for the properties `operation_id` takes."""
    values = world["values"]
    return {name: values.get(f"{operation_id}.{name}") or values[name]
            for name in BODY_PROPERTIES[operation_id]
            if f"{operation_id}.{name}" in values or name in values}


def with_known(case: Case, known: dict[str, Any], left_out: set[str]) -> Case:
    """`case` with the known body values but those `left_out` (generated instead)."""
    if isinstance(case.body, dict):
        case.body = {**case.body, **{k: v for k, v in known.items() if k not in left_out}}
    return case


def existing(path: str, world: dict[str, Any]) -> list[dict[str, Any]]:
    """Path parameters of `path` that name things in `world`: a record with its family's
    slug, the family's actions, the children it has; at most 12 combinations, spread over
    all of them."""
    names = PARAMETER.findall(path)
    if not names:
        return []
    family = path.removeprefix("/api/v1/").split("/")[0]
    if "slug" in names:
        rows = [{"slug": slug, "record_id": pk} for slug, pk in world["records"]]
    elif "record_id" in names:
        rows = [{"record_id": pk} for slug, pk in world["records"] if slug == family]
    elif "object_type" in names:
        rows = list(world["history"])
    else:
        rows = [{}]
    for name in names:
        if name == "action":
            rows = [{**row, "action": action} for row in rows
                    for action in world["actions"][row["slug"], row["record_id"]]]
        elif rows and name not in rows[0]:
            rows = [{**row, name: value} for row in rows
                    for value in world["known"].get(name, [])]
    return rows[::math.ceil(len(rows) / 12)] if rows else []


@pytest.mark.parametrize("operation_id", OPERATIONS)
@pytest.mark.usefixtures("wsgi_keeps_connection")
def test_operation_answers_as_documented(operation_id: str, world: dict[str, Any]) -> None:
    """No server error, and only documented statuses, content types and bodies (issue 12,
    item 8)."""
    operation = api_schema().find_operation_by_id(operation_id)
    headers = world["headers"]
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    paths = existing(operation.path, world)
    if paths:
        positive = st.sampled_from(paths).flatmap(
            lambda known: operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    values = known_values(operation_id, world)
    # Valid input aimed at things that exist, with some body values naming them too;
    # generated input (path parameters included); invalid input.
    strategies = [
        st.tuples(positive,
                  st.fixed_dictionaries({name: st.sampled_from(v) for name, v in values.items()}),
                  st.sets(st.sampled_from(sorted(values) or [""])),
                  ).map(lambda drawn: with_known(*drawn)),
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]

    @given(case=st.sampled_from(strategies).flatmap(lambda strategy: strategy))
    @settings(max_examples=FEWER_EXAMPLES.get(operation_id, EXAMPLES), derandomize=True,
              deadline=None, database=None, phases=(Phase.explicit, Phase.generate, Phase.shrink))
    def answers_as_documented(case: Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_as_documented()
