"""SCIM 2.0 over HTTP (issue 17, item 4): an HR integration's token creates, updates,
deactivates and groups people through the account services, audited as the integration's;
bad input gets a SCIM error and changes nothing (RFC 7644 §3.12)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cyberqms.platform.accounts.models import RoleAssignment, User
from cyberqms.platform.accounts.services import integration_create, token_create
from cyberqms.platform.accounts.tests.factories import SiteFactory
from cyberqms.platform.trail.models import AuditEntry

pytestmark = pytest.mark.django_db
SCIM = "application/scim+json"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCOPES = ["accounts.scim.provision", "accounts.user.manage", "accounts.role.manage"]


@pytest.fixture
def hr(personas: dict[str, Any]) -> Client:
    """A client speaking as the HR directory's integration."""
    SiteFactory.create(code="BSL")
    integration = integration_create(actor=personas["admin"], name="Entra ID",
                                     kind="directory", system="Microsoft Entra ID")
    issued = token_create(actor=personas["admin"], integration=integration, name="scim",
                          scopes=SCOPES, days=30)
    return Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    return getattr(client, method)(f"/scim/v2/{path}", data=json.dumps(body) if body
                                   is not None else None, content_type=SCIM)


def joiner(**extra: Any) -> dict[str, Any]:
    return {"schemas": [CORE, ENTERPRISE], "userName": "mlopez",
            "name": {"formatted": "Maria Lopez"}, "title": "QC Analyst",
            "emails": [{"value": "mlopez@example.com", "primary": True}],
            ENTERPRISE: {"employeeNumber": "E-2041", "division": "BSL"}, **extra}


def test_a_joiner_is_created_as_the_integrations_change(hr: Client) -> None:
    answer = send(hr, "post", "Users", joiner())
    person = User.objects.get(username="mlopez")
    entry = AuditEntry.objects.filter(action="accounts.user.create",
                                      object_id=str(person.pk)).get()
    assert (answer.status_code, answer["Content-Type"], answer.json()["id"],
            person.full_name, person.employee_id, person.site.code if person.site else "",
            entry.actor_id, entry.actor_name) == (
        201, SCIM, str(person.pk), "Maria Lopez", "E-2041", "BSL", None,
        "Entra ID (integration)")


def test_a_user_is_found_by_user_name(hr: Client) -> None:
    send(hr, "post", "Users", joiner())
    found = send(hr, "get", 'Users?filter=userName eq "MLOPEZ"').json()
    assert (found["totalResults"], found["Resources"][0]["userName"],
            found["Resources"][0][ENTERPRISE]["employeeNumber"]) == (1, "mlopez", "E-2041")


def test_a_user_name_taken_is_a_uniqueness_error_and_changes_nothing(
        hr: Client, personas: dict[str, Any]) -> None:
    before = User.objects.count()
    answer = send(hr, "post", "Users", joiner(userName="author"))
    assert (answer.status_code, answer.json()["scimType"], User.objects.count()) == (
        409, "uniqueness", before)


def test_a_manager_in_a_circle_is_refused_with_nothing_half_done(
        hr: Client, personas: dict[str, Any]) -> None:
    made = send(hr, "post", "Users", joiner()).json()
    author = personas["author"]
    send(hr, "patch", f"Users/{author.pk}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": made["id"]}}]})
    answer = send(hr, "patch", f"Users/{made['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "title", "value": "Senior QC Analyst"},
        {"op": "replace", "path": f"{ENTERPRISE}:manager",
         "value": {"value": str(author.pk)}}]})
    person = User.objects.get(username="mlopez")
    assert (answer.status_code, answer.json()["scimType"], person.title, person.manager_id) == (
        400, "invalidValue", "QC Analyst", None)


def test_active_false_disables_the_account_at_once(hr: Client,
                                                   personas: dict[str, Any]) -> None:
    author = personas["author"]
    answer = send(hr, "patch", f"Users/{author.pk}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "active", "value": False}]})
    author.refresh_from_db()
    assert (answer.status_code, answer.json()["active"], author.is_active,
            author.deactivation_reason) == (
        200, False, False, "SCIM provisioning by Entra ID: account disabled by HR")


def test_delete_deactivates_and_keeps_the_person(hr: Client,
                                                 personas: dict[str, Any]) -> None:
    author = personas["author"]
    answer = send(hr, "delete", f"Users/{author.pk}")
    assert (answer.status_code, User.objects.filter(pk=author.pk, is_active=False).exists()
            ) == (204, True)


def test_adding_a_member_grants_the_role_at_the_site(hr: Client,
                                                     personas: dict[str, Any]) -> None:
    made = send(hr, "post", "Users", joiner()).json()
    answer = send(hr, "patch", "Groups/author@BSL", {"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": made["id"]}]}]})
    grant = RoleAssignment.objects.get(user__username="mlopez")
    assert (answer.status_code, [m["display"] for m in answer.json()["members"]],
            grant.role, grant.site.code if grant.site else "", grant.granted_by_id,
            grant.grant_reason) == (
        200, ["mlopez"], "author", "BSL", None, "SCIM group membership by Entra ID")


def test_removing_a_member_revokes_the_role(hr: Client, personas: dict[str, Any]) -> None:
    author = personas["author"]
    answer = send(hr, "patch", "Groups/author", {"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": f'members[value eq "{author.pk}"]'}]})
    assert (answer.status_code, answer.json()["members"],
            RoleAssignment.objects.filter(user=author, revoked_at__isnull=True).count()) == (
        200, [], 0)


def test_an_unknown_group_is_not_found(hr: Client) -> None:
    answer = send(hr, "get", "Groups/pope@BSL")
    assert (answer.status_code, answer.json()["schemas"]) == (
        404, ["urn:ietf:params:scim:api:messages:2.0:Error"])


def test_an_unknown_person_is_not_found(hr: Client) -> None:
    assert send(hr, "get", "Users/999999").status_code == 404


def test_a_body_that_is_not_json_is_invalid_syntax(hr: Client) -> None:
    answer = hr.post("/scim/v2/Users", data=b"{not json", content_type=SCIM)
    assert (answer.status_code, answer.json()["scimType"]) == (400, "invalidSyntax")


def test_an_unsupported_filter_is_named(hr: Client) -> None:
    answer = send(hr, "get", 'Users?filter=title co "QC"')
    assert (answer.status_code, answer.json()["scimType"]) == (400, "invalidFilter")


def test_no_token_no_scim(personas: dict[str, Any], login: Any) -> None:
    session = login(personas["admin"])  # a signed-in administrator is no integration
    answer = session.get("/scim/v2/Users")
    assert (answer.status_code, answer["Content-Type"]) == (401, SCIM)


def test_a_token_without_the_provisioning_scope_is_forbidden(
        personas: dict[str, Any]) -> None:
    integration = integration_create(actor=personas["admin"], name="LIMS", kind="lims",
                                     system="LabWare")
    issued = token_create(actor=personas["admin"], integration=integration, name="read",
                          scopes=["accounts.user.view"], days=5)
    answer = Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}").get("/scim/v2/Users")
    assert answer.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_endpoint_answers_a_real_http_client(live_server: Any,
                                                 personas: dict[str, Any]) -> None:
    import urllib.request

    integration = integration_create(actor=personas["admin"], name="Okta", kind="directory",
                                     system="Okta")
    issued = token_create(actor=personas["admin"], integration=integration, name="scim",
                          scopes=SCOPES, days=30)
    request = urllib.request.Request(  # noqa: S310  # the test's own server on loopback
        f"{live_server.url}/scim/v2/Users?filter=userName%20eq%20%22author%22",
        headers={"Authorization": f"Bearer {issued.secret}", "Accept": SCIM})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310  # loopback
        body = json.loads(answer.read())
        kind = answer.headers["Content-Type"]
    assert (kind, body["totalResults"], body["Resources"][0]["userName"]) == (
        SCIM, 1, "author")
