"""The segregation-of-duties matrix: pairs of roles one person must not hold together.

Declared here, in one table, and shown as it is on the access-governance page. The gate
already keeps a record's author from approving it (the workflows' `not_by`); this matrix is
about what a person *holds*, so that nobody could author and approve in one family at a
site, administer the accounts of people whose GxP work they also do, or approve the
changes they implement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cyberqms.platform.accounts.enums import Role

R = Role


@dataclass(frozen=True)
class SodRule:
    code: str
    first: frozenset[str]
    second: frozenset[str]
    same_site: bool  # only when both are held at one site (a role at every site: at all)
    why: str
    severity: str = "high"

    def conflict(self, held: Iterable[tuple[str, int | None]],
                 ) -> list[tuple[str, str, int | None]]:
        """The pairs of held (role, site) that break this rule, each as (first role,
        second role, the site where they meet: None for every site)."""
        held = list(held)
        found = []
        for role_a, site_a in held:
            if role_a not in self.first:
                continue
            for role_b, site_b in held:
                if role_b not in self.second or role_b == role_a:
                    continue
                if self.same_site and site_a is not None and site_b is not None \
                        and site_a != site_b:
                    continue
                found.append((role_a, role_b, site_a if site_a is not None else site_b))
        return found


SOD_MATRIX: tuple[SodRule, ...] = (
    SodRule("author-approver", frozenset({R.AUTHOR, R.PROCESS_OWNER}),
            frozenset({R.QA_MANAGER}), same_site=True,
            why="Authoring and approving the same families at one site: the person could "
                "approve work that their own team (or they) raised."),
    SodRule("admin-gxp", frozenset({R.ADMINISTRATOR}),
            frozenset({R.QA_MANAGER, R.QA_REVIEWER, R.PROCESS_OWNER, R.AUTHOR,
                       R.SYSTEM_OWNER}), same_site=False,
            why="Administering accounts and doing GxP work: the person could give themselves "
                "the rights their GxP work needs (DI-01)."),
    SodRule("security-implementer", frozenset({R.IT_SECURITY}),
            frozenset({R.SYSTEM_OWNER}), same_site=True,
            why="IT security assesses the changes a system owner implements: one person "
                "would assess their own changes."),
    SodRule("auditor-gxp", frozenset({R.AUDITOR}),
            frozenset({R.QA_MANAGER, R.QA_REVIEWER, R.PROCESS_OWNER, R.AUTHOR,
                       R.SYSTEM_OWNER, R.IT_SECURITY}), same_site=False,
            why="An auditor or inspector who also does the work audited is not independent."),
)


def rule(code: str) -> SodRule:
    return next(r for r in SOD_MATRIX if r.code == code)
