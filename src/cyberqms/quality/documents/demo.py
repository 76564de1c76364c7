"""The demo organization's document library: the policies and procedures of both sites,
written in the app (work instructions and a form uploaded as DOCX and PDF), reviewed,
approved and in force, several revised under change control over the months (one released
without retraining, one the action of a CAPA); one revision in review now, one periodic
review called after an incident.
Not product code: it drives the product's own services and workflow on the demo timeline."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from cyberqms.platform.kit.record_services import record_create, record_update
from cyberqms.platform.kit.records import kind_by_slug

from .services import document_content_upload, document_revise, make_due_effective


@dataclass(frozen=True)
class Doc:
    site: str
    doc_type: str
    department: str
    title: str
    purpose: str
    steps: tuple[str, ...]
    cyber: bool = False
    # Revisions over the months: (major?, what changed, the step it adds).
    revisions: tuple[tuple[bool, str, str], ...] = ()
    # The content as a file its department made ("docx", "pdf"), not written in the app.
    source: str = ""
    # QA's reason to release its minor revisions without retraining ("" : readers read).
    no_retraining: str = ""
    # A CAPA whose action revises this document (its first revision): (title, problem).
    capa: tuple[str, str] | None = None


LIBRARY: tuple[Doc, ...] = (
    Doc("DUB", "pol", "IT", "Information security policy",
        "States how the company protects the confidentiality, integrity and availability of "
        "GxP data and the systems that hold them.",
        ("Every GxP system has a named system owner and an IT-security contact.",
         "Access is granted on need, approved by the system owner, and reviewed quarterly.",
         "Privileged access needs multi-factor authentication.",
         "Security events are monitored; incidents are reported within one hour.",
         "Backups of GxP data are tested by restoring them at least twice a year."),
        cyber=True, revisions=((True, "Adds the OT network and the SCADA relay to the scope.",
                                "Plant systems (OT) follow this policy through the zone "
                                "model of IEC 62443."),)),
    Doc("DUB", "sop", "IT", "Access management for GxP computerized systems",
        "How access to GxP systems is requested, approved, granted, reviewed and removed.",
        ("The requester's manager asks for the access in cyberqms, naming the role needed.",
         "The system owner approves; segregation of duties is checked against the role.",
         "IT grants the access within two working days and records the account.",
         "Leavers' accounts are disabled on their last day.",
         "System owners review all accounts each quarter and sign the review."),
        cyber=True, revisions=((False, "Shared accounts are forbidden, no exception.",
                                "Shared or generic accounts are never used for GxP work."),
                               (True, "Quarterly review moves into cyberqms access reviews.",
                                "The quarterly review is recorded and signed in cyberqms."))),
    Doc("DUB", "sop", "QA", "Audit-trail review",
        "How the audit trails of GxP systems are reviewed, by whom and how often.",
        ("QA reviews the audit trail of every batch record before release.",
         "System owners review system-level audit trails monthly.",
         "Findings are recorded as deviations.",
         "The review covers deletions, changes of critical data and failed sign-ins.")),
    Doc("BSL", "sop", "IT", "Backup and restore of GxP data",
        "How GxP data are backed up, kept and restored, and how restores are tested.",
        ("Backups run nightly; weekly copies are kept offline for 13 weeks.",
         "A restore of each critical system is tested twice a year.",
         "The test restores to an isolated environment and compares checksums.",
         "Failed backups raise an alert to IT on call."),
        cyber=True, revisions=((False, "Immutable copies after the ransomware exercise.",
                                "One weekly copy is immutable (write once) for 90 days."),),
        capa=("Backups could be encrypted by ransomware",
              "The ransomware exercise showed that an attacker with domain rights could "
              "encrypt or delete every backup copy: none was immutable.")),
    Doc("DUB", "sop", "IT", "Security incident response",
        "How a suspected security incident is reported, contained, investigated and closed, "
        "and how its GxP impact is assessed.",
        ("Anyone who suspects an incident reports it to IT security at once.",
         "IT security opens a security incident in cyberqms and assesses its GxP impact.",
         "Affected systems are contained; evidence is preserved with hashes.",
         "QA decides on the impact on batches and records, and opens deviations.",
         "Lessons learned feed a CAPA."),
        cyber=True),
    Doc("DUB", "pol", "QA", "Data integrity policy",
        "Commits the company to ALCOA+ for all GxP records, paper and electronic.",
        ("Records are attributable, legible, contemporaneous, original and accurate.",
         "Records are complete, consistent, enduring and available.",
         "Data-integrity failures are deviations and are never corrected silently.",
         "Everyone working under GxP is trained in data integrity every year."),
        revisions=((False, "ALCOA+ examples for electronic records added.",
                    "Examples: audit trails on, no shared logins, no back-dated entries."),),
        no_retraining="Examples added to section 4; no rule is new or changed."),
    Doc("BSL", "sop", "VAL", "Computerized system validation",
        "How computerized systems are validated under GAMP 5 and kept in a validated state.",
        ("The system owner writes the user requirements.",
         "A risk assessment sets the depth of testing.",
         "Installation, operational and performance qualification follow approved protocols.",
         "The validation report is approved before use in production.",
         "Periodic evaluation confirms the validated state.")),
    Doc("DUB", "sop", "QA", "Deviation management",
        "How deviations are recorded, classified, investigated and closed.",
        ("Whoever finds a deviation records it in cyberqms the same day.",
         "QA classifies it as minor, major or critical within one working day.",
         "The owner investigates the root cause and proposes CAPA.",
         "QA approves the investigation and closes the deviation."),
        revisions=((False, "Cyber-related deviations also go to IT security.",
                    "A cyber-related deviation is also assessed by IT security."),)),
    Doc("DUB", "sop", "QA", "Corrective and preventive actions",
        "How CAPAs are planned, carried out and checked for effectiveness.",
        ("The CAPA owner plans actions with owners and due dates.",
         "QA approves the plan.",
         "Actions are completed with evidence.",
         "An effectiveness check is done before closure.")),
    Doc("BSL", "sop", "QA", "Change control",
        "How changes to products, processes, equipment and systems are assessed and approved.",
        ("The originator describes the change and its justification.",
         "Impact on quality, validation, regulatory filings and cybersecurity is assessed.",
         "QA approves; IT security also approves changes with cyber impact.",
         "The change is implemented by tasks and reviewed after implementation.")),
    Doc("DUB", "sop", "QA", "Document control",
        "How controlled documents are written, reviewed, approved, issued and retired.",
        ("Authors write documents in cyberqms from the approved templates.",
         "Named reviewers sign the review; QA approves.",
         "A document takes effect on its effective date; the previous version is superseded.",
         "Each document is reviewed periodically.")),
    Doc("DUB", "sop", "HR", "GxP training",
        "How training needs are set, training is delivered and records are kept.",
        ("Each role has a curriculum.",
         "New versions of documents in a curriculum are read and understood before use.",
         "Trainers sign classroom and on-the-job training.",
         "Overdue training is escalated to the manager.")),
    Doc("BSL", "sop", "PRD", "Line clearance",
        "How a packaging line is cleared between batches.",
        ("Remove all materials of the previous batch.",
         "Check the line against the clearance checklist.",
         "A second person verifies and signs the clearance."),
        revisions=((False, "Photo evidence of the cleared line.",
                    "A photo of the cleared line is attached to the batch record."),)),
    Doc("BSL", "wi", "PRD", "Operating the blister line BL-2",
        "How to set up and run the blister line BL-2.",
        ("Load the recipe from the HMI after the supervisor's sign-in.",
         "Check the foil lot numbers against the batch record.",
         "Run the in-process checks every 30 minutes."),
        revisions=((False, "Recipe load needs the supervisor's own sign-in.",
                    "The HMI session ends after 10 minutes without input."),),
        source="docx"),
    Doc("DUB", "wi", "QC", "HPLC system suitability",
        "How system suitability is run and evaluated on the QC HPLC systems.",
        ("Inject the standard six times.",
         "Check the relative standard deviation against the method.",
         "Never reprocess without a documented reason."), source="docx"),
    Doc("DUB", "frm", "QC", "Laboratory investigation form",
        "The form for out-of-specification and out-of-trend results.",
        ("Phase 1: the analyst and the supervisor check for obvious errors.",
         "Phase 2: a full investigation by QC and QA."), source="pdf"),
    Doc("BSL", "spec", "QC", "Specification: tablet film coating",
        "Acceptance criteria of the film-coating suspension.",
        ("Viscosity 80 to 120 mPa·s.", "Solids content 15 % ± 1 %.",
         "Appearance: homogeneous, no lumps.")),
    Doc("BSL", "sop", "ENG", "Calibration of instruments",
        "How GMP instruments are calibrated and how out-of-tolerance results are handled.",
        ("Instruments have a calibration interval set by risk.",
         "Out-of-tolerance results open a deviation.",
         "Calibration certificates are checked and attached.")),
    Doc("DUB", "sop", "SC", "Supplier qualification",
        "How suppliers of GMP materials and services, IT services included, are qualified.",
        ("Suppliers are assessed by questionnaire and, by risk, audited.",
         "Cloud and SaaS suppliers also answer the security questionnaire.",
         "Quality agreements are signed before supply.")),
    Doc("BSL", "sop", "IT", "Patch management for plant systems",
        "How security patches reach plant (OT) systems without breaking validation.",
        ("Vendors' patches are assessed within 14 days.",
         "Patches are tested on the reference system first.",
         "Installation on validated systems goes through change control."),
        cyber=True),
    Doc("DUB", "sop", "IT", "Password and authenticator hygiene",
        "Rules for passwords and second factors of everyone with access to GxP systems.",
        ("Passwords are at least 12 characters and never reused.",
         "Authenticator apps are enrolled on a company phone.",
         "Nobody asks for or shares a password or a one-time code."),
        cyber=True),
    Doc("DUB", "sop", "IT", "Phishing reporting",
        "How to recognize and report suspected phishing.",
        ("Do not click links or open attachments in unexpected messages.",
         "Report with the 'Report phishing' button.",
         "IT security answers every report within one working day."),
        cyber=True),
    Doc("BSL", "sop", "QA", "Electronic signatures",
        "What an electronic signature means and how it is given.",
        ("A signature is given with your own password and, where required, your "
         "authenticator.",
         "The meaning (reviewed, approved, closed) is shown before signing.",
         "Never sign for someone else.")),
    Doc("DUB", "sop", "QA", "Internal audits",
        "How internal GMP and data-integrity audits are planned and carried out.",
        ("The annual audit plan is approved by QA.",
         "Each audit ends with a report and CAPA for findings.")),
    Doc("BSL", "sop", "QA", "Complaint handling",
        "How product complaints are received, assessed and answered.",
        ("Complaints are recorded the day they arrive.",
         "QA decides on reportability.",
         "The investigation looks at retained samples and batch records.")),
    Doc("DUB", "val", "VAL", "Validation plan: cyberqms eQMS",
        "The validation approach for cyberqms as a GAMP 5 category 4 system.",
        ("Requirements trace to 21 CFR Part 11 and Annex 11.",
         "Test scripts run on the release candidate.",
         "The validation report releases the version for use."),
        cyber=True),
    Doc("BSL", "sop", "PRD", "Batch record review",
        "How executed batch records are reviewed before release.",
        ("Production reviews the batch record within one day of the end of the batch.",
         "QA reviews it with the audit trail of the MES.")),
    Doc("DUB", "pol", "QA", "Quality policy",
        "The company's commitment to quality and patient safety.",
        ("Quality is everyone's responsibility.",
         "We meet GMP and keep our records trustworthy.")),
    Doc("BSL", "wi", "ENG", "Alarm handling in the building management system",
        "How BMS alarms in GMP areas are acknowledged and escalated.",
        ("Acknowledge the alarm in the BMS within 15 minutes.",
         "Escalate temperature alarms in cold rooms to QA."),
        cyber=True),
    Doc("DUB", "sop", "IT", "Logging and security monitoring",
        "Which events GxP and plant systems log and how they are monitored.",
        ("Systems send security events to cyberqms.",
         "Detection rules alert IT security; alerts are triaged within four hours.",
         "Logs are kept for at least one year."),
        cyber=True),
)
# The document whose revision is in review now, and the one whose periodic review QA has
# called after an incident.
IN_REVIEW = "Access management for GxP computerized systems"
REVIEW_CALLED = "Security incident response"


def body(doc: Doc, added: tuple[str, ...] = ()) -> str:
    steps = (*doc.steps, *added)
    lines = [
        "# 1 Purpose", "", doc.purpose, "",
        "# 2 Scope", "", f"All GxP activities of the {doc.site} site covered by this "
        "document, and the people who carry them out.", "",
        "# 3 Responsibilities", "",
        "| Role | Responsibility |", "|---|---|",
        "| Document owner | Keeps this document current and trains the users. |",
        "| QA | Approves this document and checks it is followed. |",
        *(["| IT security | Approves the security requirements of this document. |"]
          if doc.cyber else []),
        "", "# 4 Procedure", "",
        *(f"{i}. {step}" for i, step in enumerate(steps, start=1)),
        "", "# 5 Records", "",
        "Records made under this document are kept in cyberqms or the GxP system named, for "
        "the retention period of the records they support.",
        "", "# 6 References", "",
        "- 21 CFR Part 11; EU GMP Chapter 4 and Annex 11",
        "- MHRA and FDA guidance on data integrity",
    ]
    return "\n".join(lines) + "\n"


def docx_content(doc: Doc, added: tuple[str, ...] = ()) -> bytes:
    """The document as its department writes it in Word: headings, a table, the steps."""
    from .office import docx_bytes

    steps = (*doc.steps, *added)
    blocks: list[tuple[str, object]] = [
        ("h1", doc.title), ("h2", "1 Purpose"), ("p", doc.purpose),
        ("h2", "2 Scope"), ("p", f"The {doc.site} site and everyone who carries out this "
                                 "work."),
        ("h2", "3 Responsibilities"),
        ("table", [("Role", "Responsibility"),
                   ("Document owner", "Keeps this instruction current and trains the users."),
                   ("Operator", "Follows each step and records it in the batch record.")]),
        ("h2", "4 Instruction"),
        *(("p", f"{i}. {step}") for i, step in enumerate(steps, start=1)),
        ("h2", "5 Records"),
        ("p", "Records are kept with the batch record or in the GxP system named."),
    ]
    return docx_bytes(blocks)


def pdf_content(doc: Doc) -> bytes:
    """A form as QC designed it: its fields and phases with boxes to fill in."""
    from django.utils.html import escape

    from .office import pdf_bytes

    phases = "".join(f"<h2>{escape(step)}</h2><table><tr><th>Finding</th><th>Signed, "
                     "date</th></tr><tr><td class=\"box\"></td><td class=\"box\"></td></tr>"
                     "</table>" for step in doc.steps)
    return pdf_bytes(
        f"<h1>{escape(doc.title)}</h1><p>{escape(doc.purpose)}</p>"
        "<table><tr><th>Product, batch</th><td class=\"box\"></td></tr>"
        "<tr><th>Test, method</th><td class=\"box\"></td></tr>"
        "<tr><th>Result and specification</th><td class=\"box\"></td></tr></table>"
        f"{phases}<h2>QA conclusion</h2><table><tr><td class=\"box\"></td></tr></table>")


def content_upload(loader: Any, version: Any, doc: Doc, added: tuple[str, ...] = ()) -> None:
    """The department's file as the version's content."""
    if not doc.source:
        return
    data = docx_content(doc, added) if doc.source == "docx" else pdf_content(doc)
    document_content_upload(version, actor=version.owner,
                            filename=f"{doc.title}.{doc.source}", data=data)


def schedule(loader: Any) -> int:
    """Put the library on the loader's timeline; returns how many documents."""
    rng = random.Random("cyberqms demo documents")  # noqa: S311  # demo data, not secrets
    n = max(3, round(len(LIBRARY) * loader.scale))
    chosen = list(LIBRARY[:n])
    for special in (IN_REVIEW, REVIEW_CALLED):
        if special not in [d.title for d in chosen]:
            chosen[-1 if special == IN_REVIEW else -2] = next(
                d for d in LIBRARY if d.title == special)
    first = loader.clock.current + dt.timedelta(days=14)
    for i, doc in enumerate(chosen):
        # The library is written in the first months; later documents come as needs arise.
        when = first + dt.timedelta(days=i * 4 + rng.uniform(0, 3))
        loader.timeline.start(loader.office(when, rng), document(loader, rng, doc),
                              f"document {doc.title}")
    return len(chosen)


def document(loader: Any, rng: random.Random, doc: Doc) -> Iterator[dt.datetime]:
    kind, cast = kind_by_slug("documents"), loader.cast
    owner = cast.author
    second = cast.system_owner if doc.cyber or doc.department in ("IT", "VAL") else None
    effective = loader.clock.current.date() + dt.timedelta(days=rng.randint(21, 30))
    version: Any = record_create(kind, actor=owner, site=cast.sites[doc.site], values={
        "title": doc.title, "doc_type": doc.doc_type, "department": doc.department,
        "cyber_relevant": doc.cyber, "description": doc.purpose,
        "body": "" if doc.source else body(doc),
        "owner": owner, "reviewer": cast.process_owner, "second_reviewer": second,
        "effective_date": effective, "due_date": effective - dt.timedelta(days=2),
    })
    content_upload(loader, version, doc)
    yield from approval(loader, rng, version)
    added: tuple[str, ...] = ()
    for major, summary, step in doc.revisions:
        yield loader.later(60, 150, rng)
        if loader.end - loader.clock.current < dt.timedelta(days=40):
            break
        added = (*added, step)
        change = capa = None
        if doc.capa is not None and version.minor == 0 and version.major == 1:
            capa = yield from capa_planned(loader, rng, doc, version)
        if doc.doc_type in settings.CYBERQMS_DOCUMENT_CHANGE_CONTROL:
            change = yield from approved_change(loader, rng, doc, summary)
        revision = document_revise(version, actor=owner, size="major" if major else "minor",
                                   change_summary=summary,
                                   change_number=change.number if change else "")
        yield loader.later(1, 4, rng)
        effective = loader.clock.current.date() + dt.timedelta(days=rng.randint(21, 30))
        record_update(revision, actor=owner, changes={
            **({} if doc.source else {"body": body(doc, added)}),
            "reviewer": cast.process_owner, "second_reviewer": second,
            "effective_date": effective})
        content_upload(loader, revision, doc, added)
        if doc.title == IN_REVIEW and (major, summary, step) == doc.revisions[-1]:
            yield loader.later(0.5, 1, rng)
            kind.workflow.run(revision, "submit", actor=owner)
            return  # the reviewers have been asked: it waits for them now
        yield from approval(loader, rng, revision, "" if major else doc.no_retraining)
        version = revision
        if change is not None:
            yield from implemented(loader, rng, change)
        if capa is not None:
            yield from capa_action_done(loader, rng, capa, version)
    if doc.title == REVIEW_CALLED:
        # Called in the last weeks: the owner's periodic review is due soon.
        yield loader.office(loader.end - dt.timedelta(days=12), rng)
        kind.workflow.run(version, "call_review", actor=cast.qa_manager,
                          reason="Lessons learned from the ransomware exercise: check the "
                                 "escalation contacts and the containment steps.")


def approval(loader: Any, rng: random.Random, version: Any,
             no_retraining: str = "") -> Iterator[dt.datetime]:
    """Sent for review, reviewed, approved (IT security first when cyber-relevant; QA
    releases it without retraining when `no_retraining` gives the reason), and in force on
    its effective date (the scheduler's job)."""
    kind, cast = kind_by_slug("documents"), loader.cast
    run = kind.workflow.run
    yield loader.later(0.5, 2, rng)
    run(version, "submit", actor=version.owner)
    for reviewer in (cast.process_owner, cast.system_owner):
        if reviewer.pk in version.awaiting_review():
            yield loader.later(0.5, 3, rng)
            run(version, "review", actor=reviewer, signature=loader.sign(reviewer))
    if version.cyber_relevant:
        yield loader.later(0.5, 2, rng)
        run(version, "security_approve", actor=cast.it_security,
            signature=loader.sign(cast.it_security))
    yield loader.later(0.5, 2, rng)
    run(version, "approve", actor=cast.qa_manager, signature=loader.sign(cast.qa_manager))
    if no_retraining:
        yield loader.later(0.1, 0.5, rng)
        run(version, "waive_retraining", actor=cast.qa_manager, reason=no_retraining,
            signature=loader.sign(cast.qa_manager))
    yield dt.datetime.combine(version.effective_date, dt.time(0, 5), tzinfo=dt.UTC)
    make_due_effective()


def capa_planned(loader: Any, rng: random.Random, doc: Doc,
                 version: Any) -> Generator[dt.datetime, None, Any]:
    """The CAPA (after the ransomware exercise) whose corrective action revises `doc`: its
    plan approved, the action waiting for the revision to take effect."""
    from cyberqms.quality.capa import services as capa_services
    from cyberqms.quality.capa.workflow import CAPA_WORKFLOW

    assert doc.capa is not None
    cast = loader.cast
    title, problem = doc.capa
    today = loader.clock.current.date()
    capa = capa_services.capa_create(
        actor=cast.it_security, site=version.site, title=title, owner=cast.author,
        source="other", source_reference="Ransomware tabletop exercise",
        problem_statement=problem, description="Found in the ransomware tabletop exercise.",
        due_date=today + dt.timedelta(days=90), cyber_related=True,
        event_at=loader.clock.current - dt.timedelta(days=2))
    capa_services.capa_action_add(
        capa, actor=cast.author, kind="corrective", owner=cast.author,
        description=f"Revise {version.document_number} “{doc.title}”: one immutable weekly "
                    "copy.",
        due_date=today + dt.timedelta(days=75), document_number=version.document_number)
    capa_services.capa_effectiveness_plan(
        capa, actor=cast.author, criteria="The next restore test restores from the "
                                          "immutable copy.",
        due=today + dt.timedelta(days=150), reason="")
    yield loader.later(0.5, 2, rng)
    CAPA_WORKFLOW.run(capa, "submit", actor=cast.author)
    yield loader.later(1, 3, rng)
    return CAPA_WORKFLOW.run(capa, "approve_plan", actor=cast.qa_reviewer,
                             signature=loader.sign(cast.qa_reviewer))


def capa_action_done(loader: Any, rng: random.Random, capa: Any,
                     version: Any) -> Iterator[dt.datetime]:
    """The revision is in force: the CAPA's action is done, its implementation complete;
    QA checks its effectiveness when due, and closes it."""
    from cyberqms.quality.capa import services as capa_services
    from cyberqms.quality.capa.workflow import CAPA_WORKFLOW

    yield loader.later(1, 3, rng)
    for action in capa.actions.filter(state="open"):
        capa_services.capa_action_complete(
            action, actor=loader.cast.author,
            evidence=f"{version.number} in force since {version.effective_date}.")
    capa = CAPA_WORKFLOW.run(capa, "complete_implementation", actor=loader.cast.author)
    check = capa.effectiveness_due
    if check is None or loader.end.date() - check < dt.timedelta(days=10):
        return  # the check falls due after the demo's end: it waits
    yield loader.office(dt.datetime.combine(check, dt.time(9), tzinfo=dt.UTC), rng)
    cast = loader.cast
    capa = capa_services.capa_effectiveness_record(
        capa, actor=cast.qa_reviewer, result="passed", signature=loader.sign(cast.qa_reviewer),
        evidence="The restore test of the period restored from the immutable copy.")
    yield loader.later(0.5, 3, rng)
    CAPA_WORKFLOW.run(capa, "close", actor=cast.qa_manager, reason="Effective; closed.",
                      signature=loader.sign(cast.qa_manager))


def approved_change(loader: Any, rng: random.Random, doc: Doc,
                    summary: str) -> Generator[dt.datetime, None, Any]:
    """The change control a revision implements, approved by QA (released: no cyber
    impact of its own; the document's security content is approved on the document)."""
    changes, cast = kind_by_slug("changes"), loader.cast
    planned = loader.clock.current.date() + dt.timedelta(days=30)
    change = record_create(changes, actor=cast.author, site=cast.sites[doc.site], values={
        "title": f"Revise “{doc.title}”", "change_type": "document", "owner": cast.author,
        "description": summary, "justification": "Keep the procedure current with practice.",
        "scope": f"The document “{doc.title}” and the training of its users.",
        "product_quality_impact": "None: the practice is already followed.",
        "validation_impact": "None.", "regulatory_impact": "No filing.",
        "cyber_assessment": "No change to systems or interfaces.",
        "severity": 2, "probability": 1, "detectability": 2,
        "planned_implementation_date": planned, "due_date": planned + dt.timedelta(days=30),
    })
    yield loader.later(0.2, 1, rng)
    changes.workflow.run(change, "submit", actor=cast.author)
    yield loader.later(0.5, 2, rng)
    changes.workflow.run(change, "qa_approve", actor=cast.qa_reviewer,
                         signature=loader.sign(cast.qa_reviewer))
    changes.workflow.run(change, "release", actor=cast.qa_reviewer)
    return change


def implemented(loader: Any, rng: random.Random, change: Any) -> Iterator[dt.datetime]:
    """The change closes once the document it revised is in force."""
    from cyberqms.quality.changes import services

    changes, cast = kind_by_slug("changes"), loader.cast
    changes.workflow.run(change, "start_implementation", actor=cast.author)
    task = services.change_task_add(change, actor=cast.author, owner=cast.author,
                                    description="Issue the revised document")
    services.change_task_complete(task, actor=cast.author, note="Revision in force.")
    changes.workflow.run(change, "complete_implementation", actor=cast.author)
    yield loader.later(5, 12, rng)
    services.change_update(change, actor=cast.qa_reviewer, reason="Post-implementation review",
                           changes={"post_implementation_review":
                                    "Revision in force; users informed.",
                                    "pir_outcome": "effective"})
    changes.workflow.run(change, "close", actor=cast.qa_manager,
                         signature=loader.sign(cast.qa_manager))
