"""What the demo loader and its record scripts share: the figures of the demo, the cast
of people, and the loader's state with its helpers for times, values and signatures."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from cyberqms.platform.kit.signatures import SignatureRequest

from .. import content
from .clock import SimulatedClock, Timeline

SEED = 2026
SIMULATED_DAYS = 563  # about 18.5 months
RECORDS_FROM_DAY = 12  # the first records, after the organization has settled in
DEVIATIONS = 62
CHANGES = 24
STANDALONE_CAPAS = 8  # from audits, incidents, complaints (more come from deviations)


# --- the people -----------------------------------------------------------------------------


@dataclass
class Cast:
    """The demo organization as the loader needs it."""

    admin: Any
    sites: dict[str, Any]
    people: dict[str, Any]  # by username
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def qa_manager(self) -> Any:
        return self.people["hbrandt"]

    @property
    def qa_reviewer(self) -> Any:
        return self.people["treyes"]

    @property
    def process_owner(self) -> Any:
        return self.people["pnatarajan"]

    @property
    def author(self) -> Any:
        return self.people["jweber"]

    @property
    def it_security(self) -> Any:
        return self.people["aokafor"]

    @property
    def system_owner(self) -> Any:
        return self.people["mbianchi"]

    def department(self, site: str, code: str) -> Any:
        from cyberqms.platform.accounts.models import Department

        return Department.objects.filter(site=self.sites[site], code=code).first()


def _person_password(cast: Cast, user: Any) -> str:
    return cast.passwords[user.username]


# --- the loader's state and helpers ---------------------------------------------------------


class LoaderBase:
    """What every record script uses: the cast, the clock, the one random source, the
    counters, and helpers for times, values, people and e-signatures."""

    def __init__(self, cast: Cast, clock: SimulatedClock, end: dt.datetime, *,
                 out: Any = None, scale: float = 1.0) -> None:
        self.cast = cast
        self.clock = clock
        self.end = end
        self.out = out
        self.scale = scale
        self.rng = random.Random(SEED)  # noqa: S311  # reproducible demo data, not secrets
        self.timeline = Timeline(clock, end)
        self.made: Counter[str] = Counter()
        self.capa_fates: Counter[str] = Counter()
        # Each CAPA of the quality scripts by its place in their order (1, 2, …): some fates
        # follow it, so a CAPA another family's demo makes shifts none of them.
        self.capa_order: dict[int, int] = {}
        self._progress_at = 0

    # --- time helpers ---------------------------------------------------------------------

    def office(self, when: dt.datetime, rng: random.Random | None = None) -> dt.datetime:
        """`when`, moved into office hours (Monday to Friday, 07:00–17:00 UTC). Scripts with
        a random source of their own pass it, so they leave the others' draws as they are."""
        rng = rng or self.rng
        if when.hour < 7:
            when = when.replace(hour=7 + rng.randint(0, 2), minute=rng.randint(0, 59))
        elif when.hour >= 17:
            when = (when + dt.timedelta(days=1)).replace(hour=7 + rng.randint(0, 2),
                                                         minute=rng.randint(0, 59))
        while when.weekday() >= 5:
            when += dt.timedelta(days=1)
        return when

    def later(self, low_days: float, high_days: float,
              rng: random.Random | None = None) -> dt.datetime:
        delay = dt.timedelta(days=(rng or self.rng).uniform(low_days, high_days))
        return self.office(self.clock.current + delay, rng)

    def today(self) -> dt.date:
        return timezone.localdate()

    def in_days(self, low: int, high: int) -> dt.date:
        return self.today() + dt.timedelta(days=self.rng.randint(low, high))

    def sign(self, user: Any) -> SignatureRequest:
        """The person's e-signature on the CLI channel: password (no authenticator yet)."""
        return SignatureRequest(password=_person_password(self.cast, user), otp="",
                                request=None)

    def trained(self, person: Any) -> None:
        """The person reads and signs every document they have open before a step that may
        need current training (the step's page would send them to My training first)."""
        from cyberqms.quality.training.models import TrainingAssignment
        from cyberqms.quality.training.services import reading_acknowledge

        for assignment in TrainingAssignment.objects.filter(
                person=person, state="open", kind="reading"):
            reading_acknowledge(assignment, actor=person, signature=self.sign(person))

    # --- running ------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        if self.out is not None:
            self.out.write(text + "\n")
            self.out.flush()

    # --- values and people --------------------------------------------------------------------

    def _fill(self, text: str, values: dict[str, str]) -> str:
        return text.format(**values) if "{" in text else text

    def _values(self, site: str) -> dict[str, str]:
        rng, now = self.rng, self.clock.current
        code = "101" if rng.random() < 0.6 else ("117" if site == "BSL" else "205")
        return {
            "batch": f"CQ{code}-{now:%y}-{rng.randint(100, 990):04d}",
            "room": str(rng.choice([2, 3, 4, 5, 7])),
            "line": str(rng.choice([1, 2, 3])),
            "n": str(rng.randint(1, 9)),
            "product": rng.choice(content.PRODUCTS[site]),
            "sop": rng.choice(content.SOPS),
            "part": rng.choice(content.PARTS),
            "ref": "",
        }

    def _workers(self, site: str, cyber: bool) -> list[Any]:
        c = self.cast
        if cyber:
            return [c.it_security, c.system_owner]
        return [c.author, c.process_owner] if site == "BSL" else [c.system_owner,
                                                                    c.process_owner]
