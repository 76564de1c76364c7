"""Speed of a record's controlled copy as PDF (`kit.record_export`): build and render.

Runs against a fresh SQLite database in a temporary directory, set up by the production
settings module (all migrations). The record is a typical closed deviation, made through
the services as people would make it: drafted and edited, submitted, triaged,
investigated with comments and an attachment, returned once by QA, approved and closed
with e-signatures (the two a deviation takes): 20 audit entries in its history.

Each run builds the document (`record_document`: the record's fields, signatures, links,
attachments, comments, trail entries and their verification) and renders it
(`render_pdf`, WeasyPrint), as the PDF page does. The first copy of the process is
reported on its own, as the import of WeasyPrint (its fontTools and C declarations, its
user-agent stylesheet) and the copy after it (which loads the fonts, parses the
stylesheet and warms the C bindings); then the median and 95th percentile over `--runs`,
split into build and render, the database queries of one copy and the size and pages of
the PDF.

    .venv/bin/python benchmarks/pdf.py              # 20 runs
    .venv/bin/python benchmarks/pdf.py --runs 50
    .venv/bin/python benchmarks/pdf.py --profile    # plus cProfile of one copy
    .venv/bin/python benchmarks/pdf.py --profile --sort tottime

Wall-clock figures follow the machine's load (the load average is printed); the CPU time
of a copy (`time.process_time`) is what the copy itself costs.

Figures are for comparison between runs on one machine, never asserted in tests.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

# Made per run: the database is thrown away with them.
PASSWORD = secrets.token_urlsafe(24)
TOTP_SECRET = pyotp.random_base32()
PEOPLE = {  # username: (printed name, role)
    "hbrandt": ("Dr. Helena Brandt", "qa_manager"),
    "treyes": ("Teresa Reyes", "qa_reviewer"),
    "jweber": ("Jonas Weber", "author"),
    "akaya": ("Aylin Kaya", "author"),
}


def setup_django(data_dir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "cyberqms.settings"
    os.environ["CYBERQMS_DATA_DIR"] = str(data_dir)
    os.environ["CYBERQMS_ENV"] = "development"
    for name in ("DATABASE_URL", "CYBERQMS_TRAIL_KEY_FILE", "CYBERQMS_SECRET_KEY"):
        os.environ.pop(name, None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def make_people() -> tuple[Any, Any, dict[str, Any]]:
    """The site, the administrator and the people, each able to sign (P11-22)."""
    from allauth.mfa.totp.internal.auth import TOTP

    from cyberqms.platform.accounts import services
    from cyberqms.platform.accounts.bootstrap import bootstrap_administrator
    from cyberqms.platform.core.context import RequestContext, acting_context
    from cyberqms.platform.kit.signatures import commitment_accept

    with acting_context(RequestContext(channel="cli")):
        admin = bootstrap_administrator(
            username="admin", full_name="Site Administrator", email="admin@example.test"
        ).user
        site = services.site_create(actor=admin, code="MUC", name="Munich",
                                    time_zone="Europe/Berlin")
        people = {}
        for username, (name, role) in PEOPLE.items():
            user = services.user_create(actor=admin, username=username, full_name=name,
                                        email=f"{username}@example.test", site=site,
                                        reason="Benchmark staff").user
            services.role_grant(user, role, actor=admin, reason="Benchmark staff")
            user.set_password(PASSWORD)
            user.must_change_password = False
            user.save()
            services.user_verify_identity(user, actor=admin, method="Passport")
            if role == "qa_manager":  # signs with an authenticator code too (P11-25)
                TOTP.activate(user, TOTP_SECRET)
            commitment_accept(user)
            user.refresh_from_db()
            people[username] = user
    return site, admin, people


def make_deviation(site: Any, people: dict[str, Any]) -> Any:
    """A closed deviation with a history as people write one (about 20 entries)."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.cache import cache
    from django.test import RequestFactory
    from django.utils import timezone

    from cyberqms.platform.core.context import RequestContext, acting_context
    from cyberqms.platform.kit.record_parts import attachment_add, comment_add
    from cyberqms.platform.kit.signatures import SignatureRequest
    from cyberqms.quality.deviations import services
    from cyberqms.quality.deviations.workflow import DEVIATION_WORKFLOW as W

    author, owner = people["jweber"], people["akaya"]
    reviewer, manager = people["treyes"], people["hbrandt"]

    def sign() -> SignatureRequest:
        # A code is accepted once: both signatures fall in one 30-second step here. A code
        # read in the last seconds of its step may have expired when it is checked.
        cache.clear()
        remaining = 30 - time.time() % 30
        if remaining < 3:
            time.sleep(remaining + 0.2)
        request = RequestFactory().post("/sign", REMOTE_ADDR="10.0.0.9")
        request.session = SessionStore()
        return SignatureRequest(password=PASSWORD, otp=pyotp.TOTP(TOTP_SECRET).now(),
                                request=request)

    with acting_context(RequestContext(channel="web", source_ip="10.0.0.9")):
        d = services.deviation_create(
            actor=author, site=site, title="Temperature excursion in cold room 3",
            description="The logger showed 9.4 °C for 40 minutes during the night shift.",
            owner=owner, event_at=timezone.now() - dt.timedelta(hours=3),
            due_date=timezone.localdate() + dt.timedelta(days=30), classification="minor",
            area="Warehouse", product_reference="Batch CQ101-26-0117",
        )
        services.deviation_update(d, actor=author, changes={
            "description": "The logger showed 9.4 °C for 40 minutes (02:10–02:50) during "
                           "the night shift; the alarm was acknowledged but not escalated."})
        services.deviation_update(d, actor=author, changes={
            "gxp_impact": True, "gxp_impact_text": "Product stored at 9.4 °C for 40 min."})
        services.deviation_update(d, actor=author, changes={
            "immediate_actions": "Stock moved to cold room 2; QA informed by phone."})
        W.run(d, "submit", actor=author)
        comment_add(d, actor=reviewer, body="Please attach the logger export.")
        attachment_add(d, actor=author, filename="logger-export.csv",
                       data=b"time,celsius\n02:10,8.6\n02:30,9.4\n02:50,8.1\n")
        W.run(d, "triage", actor=reviewer)
        comment_add(d, actor=reviewer, body="Investigation assigned to Aylin Kaya.")
        services.deviation_update(d, actor=owner, reason="Classification after review",
                                  changes={"classification": "major"})
        services.deviation_update(d, actor=owner, reason="Investigation findings", changes={
            "investigation_summary": "The door sensor failed; the alarm was not escalated.",
            "root_cause_category": "equipment",
            "root_cause": "A worn door seal and a faulty door sensor."})
        comment_add(d, actor=owner, body="Maintenance confirmed the worn seal (WO-4471).")
        W.run(d, "complete_investigation", actor=owner)
        W.run(d, "return", actor=reviewer, reason="Name the stability assessment.")
        services.deviation_update(d, actor=owner, reason="Stability assessment added", changes={
            "investigation_summary": "The door sensor failed; the alarm was not escalated. "
                                     "Stability data cover 12 h at 15 °C: no impact."})
        comment_add(d, actor=owner, body="Stability report STB-2026-031 attached to the batch.")
        W.run(d, "complete_investigation", actor=owner)
        services.deviation_update(d, actor=reviewer, reason="QA review",
                                  changes={"qa_comments": "Assessment accepted."})
        W.run(d, "approve", actor=manager, reason="Investigation sound", signature=sign())
        W.run(d, "close", actor=manager, signature=sign())
    d.refresh_from_db()
    return d


@dataclass
class Timing:
    """One copy: wall-clock and CPU seconds of building the document and of rendering."""

    build: float
    render: float
    cpu: float

    @property
    def total(self) -> float:
        return self.build + self.render


def one_copy(record: Any, actor: Any) -> tuple[Timing, bytes]:
    from cyberqms.platform.kit.record_export import record_document, render_pdf

    cpu = time.process_time()
    started = time.perf_counter()
    document = record_document(record, actor)
    built = time.perf_counter()
    pdf = render_pdf(document)
    done = time.perf_counter()
    return Timing(built - started, done - built, time.process_time() - cpu), pdf


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="profile order (tottime …)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cyberqms-bench-pdf-"))
    try:
        setup_django(data_dir)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from pypdf import PdfReader

        from cyberqms.platform.trail.models import AuditEntry
        from cyberqms.platform.trail.queries import record_history

        site, _admin, people = make_people()
        record = make_deviation(site, people)
        viewer = people["treyes"]
        entries = record_history("deviations.deviation", str(record.pk)).count()
        # Wall-clock times follow the machine's load; the CPU time is the copy's own.
        print(f"cyberqms PDF copy · Python {platform.python_version()} · "
              f"{platform.machine()} · {os.cpu_count()} CPUs · load average "
              f"{os.getloadavg()[0]:.1f}")
        print(f"record {record.number}: {entries} audit entries "
              f"(trail {AuditEntry.objects.count()}), state {record.state}")

        cpu, started = time.process_time(), time.perf_counter()
        import weasyprint  # noqa: F401  (what the first copy imports, timed on its own)

        imported, import_cpu = time.perf_counter() - started, time.process_time() - cpu
        first, pdf = one_copy(record, viewer)
        print(f"{'first copy of the process, ms':34} {1000 * (imported + first.total):8.0f} "
              f"(CPU {1000 * (import_cpu + first.cpu):.0f})")
        print(f"{'  import WeasyPrint, ms':34} {1000 * imported:8.0f} "
              f"(CPU {1000 * import_cpu:.0f})")
        print(f"{'  the copy after it, ms':34} {1000 * first.total:8.0f} "
              f"(CPU {1000 * first.cpu:.0f}; build {1000 * first.build:.0f}, "
              f"render {1000 * first.render:.0f})")
        with CaptureQueriesContext(connection) as queries:
            one_copy(record, viewer)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        runs = [one_copy(record, viewer)[0] for _ in range(args.runs)]
        print(f"{'':34} {'median':>8} {'p95':>8}   over {args.runs} runs")
        for label, values in (
            ("copy (build + render), ms", [t.total for t in runs]),
            ("  build the document, ms", [t.build for t in runs]),
            ("  render the PDF, ms", [t.render for t in runs]),
            ("  CPU time of the copy, ms", [t.cpu for t in runs]),
        ):
            print(f"{label:34} {1000 * statistics.median(values):8.0f} "
                  f"{1000 * p95(values):8.0f}")
        print(f"{'queries per copy':32} {len(queries.captured_queries):8}")
        print(f"{'PDF':32} {len(pdf) / 1024:8.0f} KiB, {pages} pages")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            one_copy(record, viewer)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(30)
            print(out.getvalue())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
