"""Access-governance pages: the overview (findings by severity and age, campaigns, the
segregation-of-duties matrix, the figures), a person's access with the use of each right,
the reviewer's page of a campaign (decide, then sign), and the campaign's own blocks."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cyberqms.platform.accounts.enums import Role
from cyberqms.platform.accounts.models import RoleAssignment, User
from cyberqms.platform.core.access import can
from cyberqms.platform.core.home import OpenTask
from cyberqms.platform.core.pages import gated, page_actor
from cyberqms.platform.kit.signatures import (
    SigningError,
    manifestation,
    signature_from_post,
    signing_state,
)
from cyberqms.platform.kit.words import problem_text
from cyberqms.security.access.models import SystemAccount
from cyberqms.security.access.rights import action_label, criticality, role_label, role_rights
from cyberqms.security.access.sod import SOD_MATRIX
from cyberqms.security.access.usage import usage_for
from cyberqms.security.findings.enums import FindingKind, FindingState
from cyberqms.security.findings.models import AccessFinding

from . import actions
from .campaigns import item_decide, review_attest
from .enums import Decision, ReviewState
from .metrics import AGES, findings_by_age, governance_figures
from .models import AccessReview, Attestation, ReviewItem

REVIEWABLE_ROLES = [(r.value, r.label) for r in Role if r != Role.ADMINISTRATOR]


def _day(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "never"


# --- the campaign's page (kit detail) ------------------------------------------------------


def _progress(review: AccessReview) -> list[dict[str, Any]]:
    per: dict[int, dict[str, Any]] = {}
    for item in ReviewItem.objects.filter(review_id=review.pk).select_related("reviewer"):
        row = per.setdefault(item.reviewer_id, {"reviewer": item.reviewer, "items": 0,
                                                "decided": 0, "signed": False})
        row["items"] += 1
        row["decided"] += bool(item.decision)
        row["signed"] = row["signed"] or item.attestation_id is not None
    for row in per.values():
        row["pct"] = round(100 * row["decided"] / row["items"]) if row["items"] else 0
    return sorted(per.values(), key=lambda r: (r["signed"], r["reviewer"].username))


def campaign_context(request: HttpRequest, review: AccessReview) -> dict[str, Any]:
    items = list(ReviewItem.objects.filter(review_id=review.pk).select_related(
        "person", "site", "reviewer", "account__system", "attestation__signature"))
    attestations = [(a, manifestation(a.signature)) for a in Attestation.objects.filter(
        review_id=review.pk).select_related("reviewer", "signature") if a.signature]
    actor = request.user
    mine = [i for i in items if i.reviewer_id == getattr(actor, "pk", None)]
    return {
        "review": review, "items": items, "progress": _progress(review),
        "attestations": attestations,
        "decided": sum(1 for i in items if i.decision),
        "signed": sum(1 for i in items if i.attestation_id),
        "my_waiting": sum(1 for i in mine if i.attestation_id is None),
        "decide_url": reverse("governance:decide", args=[review.pk]) if mine else "",
        "open": review.state == ReviewState.OPEN,
    }


def document_sections(review: AccessReview) -> list[Any]:
    """The campaign's PDF and JSON copies: every decision with the signature that holds
    it, and the attestations."""
    from cyberqms.platform.kit.record_export import Section

    items = ReviewItem.objects.filter(review_id=review.pk).select_related(
        "person", "site", "reviewer", "account__system", "attestation__signature")
    rows = []
    for i in items:
        signed = (manifestation(i.attestation.signature)["text"]
                  if i.attestation and i.attestation.signature else "not signed")
        decision = i.get_decision_display() if i.decision else "undecided"
        if i.decision == Decision.CHANGE:
            decision = f"Change to {role_label(i.new_role)}"
        rows.append([i.who, f"{i.role_label} {i.where}",
                     i.get_suggestion_display(), decision, i.reason or "—",
                     i.reviewer.printed_name, signed])
    sections = [Section("Decisions", ["Person", "Role or account", "Suggested", "Decision",
                                      "Reason",
                                      "Reviewer", "Signature"],
                        rows or [["—", "No item: the campaign was not launched.", "", "",
                                  "", "", ""]])]
    attested = [[a.reviewer.printed_name, str(a.decisions), str(a.revoked),
                 manifestation(a.signature)["text"]]
                for a in Attestation.objects.filter(review_id=review.pk).select_related(
                    "reviewer", "signature") if a.signature]
    sections.append(Section("Attestations", ["Reviewer", "Decisions", "Revoked or changed",
                                             "Signature"],
                            attested or [["—", "", "", "No attestation signed yet."]]))
    return sections


def home_tasks(user: Any) -> list[OpenTask]:
    """Campaigns waiting for the person's decisions and signature."""
    if getattr(user, "pk", None) is None:
        return []
    waiting: dict[int, int] = defaultdict(int)
    for review_id in ReviewItem.objects.filter(
            reviewer_id=user.pk, attestation__isnull=True,
            review__state=ReviewState.OPEN).values_list("review_id", flat=True):
        waiting[review_id] += 1
    today = timezone.localdate()
    tasks = []
    for review in AccessReview.objects.filter(pk__in=list(waiting)).order_by("due_date", "pk"):
        late = review.due_date is not None and review.due_date < today
        tasks.append(OpenTask(
            title=f"{review.number} {review.title}",
            detail=("Overdue access review: " if late else "Access review: ")
            + f"{waiting[review.pk]} role{'s' if waiting[review.pk] != 1 else ''} to decide "
              "and sign",
            url=reverse("governance:decide", args=[review.pk]),
            priority="high" if late else "medium", due=review.due_date))
    return tasks


# --- the reviewer's page -------------------------------------------------------------------


def _evidence_rows(item: ReviewItem) -> list[dict[str, str]]:
    return [{"label": r.get("label", r.get("action", "")), "action": r.get("action", ""),
             "last_used": r["last_used"][:10] if r.get("last_used") else "never",
             "uses": str(r.get("uses", 0))} for r in item.evidence.get("rights", [])]


def _account_facts(item: ReviewItem) -> list[tuple[str, str]]:
    """A system account's evidence, in words (empty for a role)."""
    if item.account_id is None:
        return []
    e = item.evidence
    last = e.get("last_sign_in", "")
    return [("Privilege", e.get("privilege", "") + (" (privileged)" if e.get("privileged")
                                                    else "")),
            ("Name in the list", e.get("listed_name") or "—"),
            ("Person", e.get("person") or "nobody in cyberqms"),
            ("Last sign-in", last[:10] if last else "not known"),
            ("In the user list since", e.get("first_listed", "")[:10])]


@gated(actions.DECIDE)
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The reviewer's items in a campaign: the evidence, a decision for each, then one
    signature over all of them."""
    actor = page_actor(request)
    review = get_object_or_404(AccessReview, pk=pk, is_deleted=False)
    items = list(ReviewItem.objects.filter(review_id=review.pk, reviewer_id=actor.pk)
                 .select_related("review"))
    if not items:
        raise Http404
    error: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        chosen = next((i for i in items if str(i.pk) == request.POST.get("item", "")), None)
        if chosen is None:
            raise Http404
        try:
            item_decide(chosen, actor=actor, decision=request.POST.get("decision", ""),
                        reason=request.POST.get("reason", ""),
                        new_role=request.POST.get("new_role", ""))
        except (ValidationError, PermissionDenied) as exc:
            error = {"item": str(chosen.pk), "message": problem_text(exc)}
            status = 422
        else:
            return redirect(f"{reverse('governance:decide', args=[review.pk])}#item-{chosen.pk}")
    return _decide_page(request, review, actor, error=error, status=status)


def _decide_page(request: HttpRequest, review: AccessReview, actor: Any, *,
                 error: dict[str, str] | None = None, sign_error: dict[str, str] | None = None,
                 status: int = 200) -> HttpResponse:
    items = list(ReviewItem.objects.filter(review_id=review.pk, reviewer_id=actor.pk)
                 .select_related("person", "site", "account__system",
                                 "attestation__signature")
                 .order_by("person__username", "role", "account__account", "pk"))
    waiting = [i for i in items if i.attestation_id is None]
    rows = [{"item": i, "evidence": _evidence_rows(i), "account": _account_facts(i),
             "findings": i.evidence.get("findings", []),
             "lesser": role_label(i.evidence.get("lesser_role") or "")
             if i.evidence.get("lesser_role") else ""} for i in items]
    return render(request, "governance/decide.html", {
        "review": review, "rows": rows, "waiting": len(waiting),
        "undecided": sum(1 for i in waiting if not i.decision),
        "open": review.state == ReviewState.OPEN, "roles": REVIEWABLE_ROLES,
        "decisions": Decision.choices, "error": error or {}, "sign_error": sign_error or {},
        "signing": signing_state(request, actor),
        "days": settings.CYBERQMS_ACCESS_UNUSED_HIGH_DAYS,
    }, status=status)


@gated(actions.DECIDE)
@require_POST
def attest(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    review = get_object_or_404(AccessReview, pk=pk, is_deleted=False)
    if not ReviewItem.objects.filter(review_id=review.pk, reviewer_id=actor.pk).exists():
        raise Http404
    try:
        attestation = review_attest(review, actor=actor, signature=signature_from_post(request))
    except SigningError as exc:
        return _decide_page(request, review, actor, status=422,
                            sign_error={"field": exc.field or "", "message": str(exc)})
    except (ValidationError, PermissionDenied) as exc:
        return _decide_page(request, review, actor, status=422,
                            sign_error={"field": "", "message": problem_text(exc)})
    revoked = attestation.revoked
    if review.system_id is not None:
        done = (f"; {revoked} account{'s' if revoked != 1 else ''} to remove from the "
                "system: its owner is asked to." if revoked else ".")
    else:
        done = (f"; {revoked} role{'s' if revoked != 1 else ''} revoked or changed at once."
                if revoked else ".")
    messages.success(request, f"{review.number}: {attestation.decisions} decisions signed"
                              + done)
    return redirect("governance:decide", pk=review.pk)


# --- the overview --------------------------------------------------------------------------


@gated(actions.GOVERNANCE_VIEW)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    figures = governance_figures()
    open_findings = list(AccessFinding.objects.filter(
        state=FindingState.OPEN, is_deleted=False).select_related("subject", "site")
        .order_by("-severity", "-created_at", "-pk")[:12])
    severity_order = {"high": 0, "medium": 1, "low": 2}
    open_findings.sort(key=lambda f: (severity_order.get(f.severity, 3), -f.pk))
    campaigns = list(AccessReview.objects.filter(is_deleted=False).select_related("site")
                     .order_by("-created_at", "-pk")[:8])
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"items": 0, "decided": 0,
                                                             "signed": 0})
    for review_id, decision, attestation in ReviewItem.objects.filter(
            review__in=campaigns).values_list("review_id", "decision", "attestation_id"):
        row = counts[review_id]
        row["items"] += 1
        row["decided"] += bool(decision)
        row["signed"] += attestation is not None
    sod_open = dict.fromkeys((r.code for r in SOD_MATRIX), 0)
    for fingerprint in AccessFinding.objects.filter(
            kind=FindingKind.SOD_CONFLICT, state=FindingState.OPEN,
            is_deleted=False).values_list("fingerprint", flat=True):
        code = fingerprint.split(":")[1] if fingerprint.count(":") >= 2 else ""
        if code in sod_open:
            sod_open[code] += 1
    list_url = reverse("access-findings:list")
    from cyberqms.security.access.least_privilege import suggestions

    from .models import PrivilegeChange
    from .privilege_changes import waiting_for

    applicable = {pc.pk for pc in waiting_for(request.user)}
    proposed = {(pc.role, pc.site_id, pc.action): pc.change_number
                for pc in PrivilegeChange.objects.filter(state=PrivilegeChange.PROPOSED)}
    found = suggestions()[:10]
    return render(request, "governance/overview.html", {
        "suggestions": [(s, proposed.get((s.role, s.site_id, s.action), "")) for s in found],
        "privilege_changes": [(pc, pc.pk in applicable) for pc in PrivilegeChange.objects
                              .select_related("site", "applied_by")[:10]],
        "can_propose": can(request.user, actions.PROPOSE),
        "figures": figures, "ages": [label for _limit, label in AGES],
        "by_age": findings_by_age(), "open_findings": open_findings,
        "campaigns": [(c, counts[c.pk]) for c in campaigns],
        "sod": [(r, sod_open[r.code], sorted(role_label(x) for x in r.first),
                 sorted(role_label(x) for x in r.second)) for r in SOD_MATRIX],
        "findings_url": list_url,
        "can_scan": can(request.user, actions.SCAN),
        "can_start": can(request.user, "access_reviews.create"),
        "can_import": can(request.user, "accounts.hr.import"),
    })


@gated(actions.SCAN)
@require_POST
def scan_now(request: HttpRequest) -> HttpResponse:
    from cyberqms.security.findings.scan import drift_scan

    result = drift_scan()
    messages.success(request, f"Drift scan: {result}.")
    return redirect("governance:overview")


# --- a person's access ---------------------------------------------------------------------


@gated(actions.USAGE_VIEW)
@require_GET
def person(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's roles in force, the use of each of their rights, the findings about them
    and the access reviews of their roles."""
    subject = get_object_or_404(User.objects.select_related("site", "manager"), pk=pk)
    days = settings.CYBERQMS_ACCESS_UNUSED_HIGH_DAYS
    since = timezone.now() - dt.timedelta(days=days)
    held = list(RoleAssignment.objects.held_on(timezone.now()).filter(user=subject)
                .select_related("site", "granted_by"))
    usage = usage_for([subject.pk], since=since.date())
    roles = []
    for a in held:
        rights = [r for r in role_rights(a.role) if criticality(r) != "low"]
        rows = []
        for r in rights:
            use = usage.of(subject.pk, r, a.site_id)
            rows.append({"label": action_label(r), "action": r,
                         "critical": criticality(r) == "high", "last_used": _day(
                             use.last_used_at), "uses": use.uses,
                         "recent": bool(use.last_used_at and use.last_used_at >= since)})
        rows.sort(key=lambda x: (not x["critical"], not x["recent"], x["action"]))
        roles.append({"assignment": a, "label": role_label(a.role), "rights": rows,
                      "used": sum(1 for x in rows if x["recent"]), "total": len(rows)})
    findings = AccessFinding.objects.filter(subject=subject, is_deleted=False).order_by(
        "-created_at", "-pk")[:50]
    reviews = (ReviewItem.objects.filter(person=subject)
               .select_related("review", "reviewer", "site", "account__system",
                               "attestation__signature")
               .order_by("-review__created_at", "-pk")[:50])
    accounts = (SystemAccount.objects.filter(person=subject).select_related("system")
                .order_by("removed_at", "system__title", "account"))
    return render(request, "governance/person.html", {
        "subject": subject, "roles": roles, "findings": findings, "reviews": reviews,
        "accounts": accounts,
        "days": days, "can_see_user": can(request.user, "accounts.user.view"),
    })
