"""Access-review campaigns (A11D-01): a site's people and the roles they hold, each
decided by the person's manager (the campaign's owner when there is none, never the
person), with the evidence of how the role's rights are used; or a computerized system's
accounts, decided by its system owner with the evidence of their sign-ins. Each reviewer
signs one attestation of their decisions, and the revocations it holds take effect when
it is signed (a system's accounts: its owner is asked to remove them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cyberqms.platform.core.models import KeptForever
from cyberqms.platform.kit.records import QualityRecord, filter_index, state_constraint

from .enums import Decision, ReviewKind, ReviewState


class AccessReview(QualityRecord):
    STATES = ReviewState

    review_kind = models.CharField("campaign", max_length=10, choices=ReviewKind.choices,
                                   default=ReviewKind.AD_HOC)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name="only this person",
        help_text="Review one person's access (a mover); empty: everyone at the site.")
    system = models.ForeignKey(
        "systems.System", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="computerized system",
        help_text="Review the accounts of one system of the inventory, by its system owner; "
                  "empty: the roles people hold in cyberqms.")
    launched_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(QualityRecord.Meta):
        indexes = [*QualityRecord.Meta.indexes,
                   filter_index("review_kind", "access_review_kind")]
        constraints = [state_constraint(ReviewState, "accessreview_state_valid")]

    def document_sections(self) -> list[object]:
        """Every decision with its signature, and the attestations (kit.record_export)."""
        from .pages import document_sections

        return document_sections(self)


class ReviewItem(KeptForever):
    """One role of one person in a campaign, and the reviewer's decision about it."""

    review = models.ForeignKey(AccessReview, on_delete=models.PROTECT, related_name="items")
    # Empty only for a system's account that no person answers for (shared or unknown).
    person = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    # What is reviewed: a role held in cyberqms, or an account in a computerized system.
    assignment = models.ForeignKey("accounts.RoleAssignment", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("access.SystemAccount", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, blank=True)
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    suggestion = models.CharField(max_length=10, choices=Decision.choices)
    suggestion_reason = models.CharField(max_length=300)
    # The rights of the role and their use when the campaign was launched; findings open
    # about the person then.
    evidence = models.JSONField(default=dict)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    new_role = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    attestation = models.ForeignKey("Attestation", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="items")
    applied_at = models.DateTimeField(null=True, blank=True)
    granted = models.ForeignKey("accounts.RoleAssignment", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["review", "person__username", "role", "id"]
        indexes = [models.Index(fields=["reviewer", "attestation"], name="review_item_todo")]
        constraints = [models.CheckConstraint(
            condition=(models.Q(assignment__isnull=False, account__isnull=True,
                                person__isnull=False)
                       | models.Q(assignment__isnull=True, account__isnull=False)),
            name="review_item_reviews_one_thing")]

    def __str__(self) -> str:
        return f"{self.review_id}: {self.person_id} {self.role or self.account_id}"

    @property
    def role_label(self) -> str:
        """What is reviewed in words: the role ("QA reviewer"), or the system's account
        with its privilege there ("lims.jdoe: Analyst")."""
        from cyberqms.security.access.rights import role_label

        if self.account is not None:
            return f"{self.account.account}: {self.account.privilege}"
        return role_label(self.role)

    @property
    def where(self) -> str:
        """Where it is held: the site ("at BSL"), or the system ("in LIMS")."""
        if self.account is not None:
            return f"in {self.account.system.title}"
        return f"at {self.site.code}" if self.site is not None else "at every site"

    @property
    def who(self) -> str:
        """The person, or the account's name as the system lists it when nobody answers
        for it."""
        if self.person is not None:
            return self.person.printed_name
        listed = self.account.listed_name if self.account is not None else ""
        return f"{listed or 'Nobody'} (no person in cyberqms)"

    @property
    def new_role_label(self) -> str:
        from cyberqms.security.access.rights import role_label

        return role_label(self.new_role) if self.new_role else ""


class Attestation(KeptForever):
    """A reviewer's signed attestation of their decisions in a campaign."""

    review = models.ForeignKey(AccessReview, on_delete=models.PROTECT,
                               related_name="attestations")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    # Set in the transaction that creates the row: the signature names the attestation.
    signature = models.ForeignKey("core.Signature", null=True, on_delete=models.PROTECT,
                                  related_name="+")
    decisions = models.PositiveIntegerField()
    revoked = models.PositiveIntegerField(default=0)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["review", "signed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["review", "reviewer"],
                                               name="one_attestation_per_reviewer")]

    def __str__(self) -> str:
        return f"{self.review_id}: attested by {self.reviewer_id}"


class PrivilegeChange(KeptForever):
    """A least-privilege suggestion accepted: the holders of a role at a site who never
    used one of its deciding rights lose the role (or change to a lesser one), once the
    change control raised for it is approved (`privilege_changes.py`)."""

    PROPOSED, APPLIED, CANCELLED = "proposed", "applied", "cancelled"
    STATES = ((PROPOSED, "Waiting for the change control"), (APPLIED, "Applied"),
              (CANCELLED, "Cancelled with the change control"))

    change_number = models.CharField(max_length=40)
    change_id = models.BigIntegerField()  # the change control (quality's changes.Change)
    role = models.CharField(max_length=20)
    site = models.ForeignKey("accounts.Site", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    action = models.CharField(max_length=100)  # the right they leave unused
    new_role = models.CharField(max_length=20, blank=True)  # empty: revoke
    # The role assignments to change, and the evidence when proposed.
    assignments = models.JSONField(default=list)
    evidence = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=STATES, default=PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField(null=True, blank=True)
    changed = models.PositiveIntegerField(default=0)  # roles changed when applied

    class Meta:
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["change_id"], name="privilege_change_cc")]

    def __str__(self) -> str:
        return f"{self.change_number}: {self.role} without {self.action}"

    @property
    def role_label(self) -> str:
        from cyberqms.security.access.rights import role_label

        return role_label(self.role)

    @property
    def new_role_label(self) -> str:
        from cyberqms.security.access.rights import role_label

        return role_label(self.new_role) if self.new_role else ""
