"""What the demo records say: deviations, CAPAs and changes of a two-site biologics
company (Basel drug substance, Dublin fill & finish), a quarter of them cyber-related.

Plain data, read by `demo_records`. Placeholders in the texts: {batch}, {room}, {line},
{ref} (the number of the security incident a cyber-related deviation names), {n}; they
are filled per record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CORRECTIVE, PREVENTIVE = "corrective", "preventive"


@dataclass(frozen=True)
class CapaPlan:
    title: str
    problem: str
    actions: tuple[tuple[str, str], ...]
    criteria: str
    root_cause: str = ""


@dataclass(frozen=True)
class SecurityIncident:
    """The security incident behind a cyber-related deviation: IT security opens it at the
    deviation's site when the event is found, and the deviation names it. Its impact flags
    and assessment are the deviation's (GxP, data integrity); its containment is the
    deviation's immediate actions."""

    title: str
    description: str
    systems: str  # affected systems, one a line
    accounts: str = ""  # accounts and addresses involved
    records: str = ""  # GxP records possibly touched


@dataclass(frozen=True)
class DeviationTemplate:
    title: str
    description: str
    site: str
    dept: str
    area: str
    classification: tuple[str, ...]  # drawn from
    immediate: str
    summary: str
    category: str
    root_cause: str
    product: str = ""
    cyber: SecurityIncident | None = None  # the incident it names, when cyber-related
    gxp: str = ""  # the GxP impact text, if any
    di: str = ""  # the data-integrity impact text, if any
    capa: CapaPlan | None = None
    evidence: tuple[str, str] | None = None  # (filename, kind of generated content)
    comments: tuple[tuple[str, str], ...] = field(default=())  # (who, text)


PRODUCTS = {
    "BSL": ["CQ-101 (anti-IL-23 mAb) drug substance", "CQ-117 (bispecific) drug substance"],
    "DUB": ["CQ-101 100 mg/mL prefilled syringe", "CQ-205 pen injector 40 mg"],
}

DEVIATIONS: list[DeviationTemplate] = [
    # --- classic, Basel drug substance -------------------------------------------------------
    DeviationTemplate(
        "Temperature excursion in cold room {room}",
        "The monitoring system recorded 9.{n} °C in cold room {room} for 52 minutes during the "
        "night shift (limit 2–8 °C). Bulk drug substance containers of batch {batch} were "
        "stored in the room.",
        "BSL", "PROD", "Cold room {room}, building 4", ("minor", "major"),
        "Containers moved to cold room 2 at 06:40; batch {batch} placed on QA hold.",
        "The door of cold room {room} was found ajar: the door seal is worn and the door-open "
        "alarm had been set to 'acknowledge only'. Stability data cover 24 h at 25 °C, so "
        "product quality is not affected.",
        "equipment", "Worn door seal and a door-open alarm that did not escalate.",
        gxp="Storage condition of bulk drug substance outside its registered range.",
        capa=CapaPlan(
            "Recurring temperature excursions in cold rooms",
            "Cold rooms in building 4 left 2–8 °C three times in six months.",
            ((CORRECTIVE, "Replace the door seals of cold rooms 3 and 5"),
             (PREVENTIVE, "Escalate door-open alarms to the shift lead after 5 minutes"),
             (PREVENTIVE, "Add door-seal inspection to the quarterly PM plan")),
            "No excursion above 8 °C in cold rooms for 90 days of monitoring data.",
        ),
        evidence=("cold-room-{room}-logger-export.csv", "temperature"),
        comments=(("qa", "Please add the logger calibration certificate to the record."),),
    ),
    DeviationTemplate(
        "OOS result for host-cell protein in batch {batch}",
        "Host-cell protein ELISA gave 112 ppm for batch {batch} (specification ≤ 100 ppm). "
        "Phase I laboratory investigation found no assignable laboratory error.",
        "BSL", "QC", "QC laboratory, ELISA bench", ("major",),
        "Batch {batch} quarantined; retest plan approved by QA.",
        "Phase II investigation: the Protein A resin was used beyond its validated number of "
        "cycles because the cycle counter in the MES was reset after a column repack.",
        "method", "Resin cycle counter reset after repacking; lifetime not tracked per resin lot.",
        product="{product}",
        gxp="A release specification failed; the batch cannot be released as is.",
        capa=CapaPlan(
            "Protein A resin lifetime tracked per resin lot",
            "Resin lifetime was tracked per column, so a repack reset the count.",
            ((CORRECTIVE, "Reconstruct cycle counts of all resin lots in use"),
             (PREVENTIVE, "Track resin cycles per lot in the MES, not per column")),
            "Every resin lot in use shows its cycle count; no HCP OOS in the next 10 batches.",
        ),
    ),
    DeviationTemplate(
        "Bioreactor {room} pH probe drift during fed-batch",
        "The pH probe of bioreactor {room} drifted by 0.3 units against the offline "
        "measurement on day 9 of batch {batch}.",
        "BSL", "PROD", "Upstream suite, bioreactor {room}", ("minor",),
        "Probe recalibrated in place against the offline meter; process continued.",
        "The probe was at the end of its service life; the replacement interval in the "
        "maintenance plan was longer than the manufacturer's recommendation.",
        "equipment", "Probe replacement interval too long.",
        product="{product}",
    ),
    DeviationTemplate(
        "Missed environmental-monitoring sample in grade B corridor",
        "The settle plate at location B-14 was not exposed during the fill of batch {batch}.",
        "BSL", "QC", "Grade B corridor, location B-14", ("minor",),
        "EM data of the adjacent locations reviewed: all within limits.",
        "The sampling plan on the tablet showed the previous revision of the EM map.",
        "human_error", "Outdated EM map on the sampling tablet.",
    ),
    DeviationTemplate(
        "Filter integrity test failure after sterile filtration of batch {batch}",
        "Post-use bubble-point test of the 0.2 µm filter failed (3.0 bar, limit ≥ 3.2 bar) "
        "after filtration of batch {batch}.",
        "BSL", "PROD", "Downstream suite, filtration skid 2", ("major", "critical"),
        "Batch {batch} on hold; filtrate refiltered through a new, pre-use tested filter.",
        "The filter was wetted with buffer instead of water for the test; a retest with the "
        "correct wetting fluid passed at 3.4 bar. The batch record step was ambiguous.",
        "method", "Ambiguous wetting instruction in the batch record.",
        product="{product}",
        gxp="Sterility assurance of the filtrate depends on the integrity result.",
        capa=CapaPlan(
            "Filter integrity test instructions",
            "Two integrity-test failures in a year were caused by the wrong wetting fluid.",
            ((CORRECTIVE, "Revise batch-record step 14.3 to name the wetting fluid"),
             (PREVENTIVE, "Train downstream operators on filter integrity testing")),
            "No integrity-test failure caused by test execution in the next 20 tests.",
        ),
    ),
    DeviationTemplate(
        "Expired buffer used in chromatography step",
        "Equilibration buffer lot BUF-{n}4 was used two days after its 14-day expiry for "
        "batch {batch}.",
        "BSL", "PROD", "Buffer preparation area", ("minor", "major"),
        "Remaining buffer discarded; conductivity and pH of the used buffer confirmed in "
        "specification from retained sample.",
        "The label printer printed the preparation date in the expiry field.",
        "human_error", "Label template field mix-up after a printer update.",
        product="{product}",
    ),
    DeviationTemplate(
        "Cleaning validation swab above limit on vessel {room}",
        "A swab from vessel {room} gave 14 µg/swab TOC (limit 10 µg/swab) after the "
        "changeover to {product}.",
        "BSL", "QC", "Vessel {room}", ("major",),
        "Vessel recleaned and reswabbed: 3 µg/swab.",
        "The spray ball was partly blocked by gasket debris.",
        "equipment", "Blocked spray ball.",
        product="{product}",
        capa=CapaPlan(
            "Spray-ball inspection before cleaning cycles",
            "Blocked spray balls are not detected before cleaning.",
            ((CORRECTIVE, "Inspect and clean all spray balls of the vessel train"),
             (PREVENTIVE, "Add a riboflavin coverage test to the annual PM")),
            "All vessels pass riboflavin coverage; no swab above limit in 3 months.",
        ),
    ),
    # --- classic, Dublin fill & finish -------------------------------------------------------
    DeviationTemplate(
        "Line clearance failure on packaging line {line}",
        "During line clearance before batch {batch}, 14 leaflets of the previous product "
        "were found under the cartoner infeed of packaging line {line}.",
        "DUB", "PACK", "Packaging line {line}", ("major",),
        "Line stopped, full clearance repeated, QA verified before restart.",
        "The clearance checklist did not name the area under the cartoner infeed.",
        "method", "Incomplete line-clearance checklist.",
        product="{product}",
        gxp="Risk of mixed-up leaflets in the market.",
        capa=CapaPlan(
            "Line clearance checklists for packaging lines",
            "Clearance checklists miss hidden areas of the cartoners.",
            ((CORRECTIVE, "Add photographs of hidden areas to the clearance checklist"),
             (PREVENTIVE, "Second-person verification of clearance on every changeover")),
            "No clearance finding in 50 changeovers.",
        ),
        comments=(("qa", "Were the leaflets from a released batch? Please state it."),
                  ("owner", "Yes, from batch 24-0932, released; reconciliation is correct.")),
    ),
    DeviationTemplate(
        "Labelling mix-up: wrong expiry on syringe labels of batch {batch}",
        "In-process control found 200 labels printed with the expiry date of the previous "
        "batch on packaging line {line}.",
        "DUB", "PACK", "Labelling station, line {line}", ("major", "critical"),
        "All labelled units of the shift segregated; 100 % inspection started.",
        "The print job in the label server was not refreshed after the batch change because "
        "the operator skipped the 'new batch' dialogue.",
        "human_error", "Batch change dialogue can be skipped in the label software.",
        product="{product}",
        gxp="Wrong expiry on the primary label.",
        capa=CapaPlan(
            "Batch change in the label server enforced",
            "The label server allows printing after a batch change without new data.",
            ((CORRECTIVE, "Configure the label server to block printing until batch data "
                          "are confirmed"),
             (PREVENTIVE, "Vision system checks the printed expiry against the MES order")),
            "Vision-system reports show no expiry mismatch in 30 batches.",
        ),
    ),
    DeviationTemplate(
        "Visual inspection reject rate above alert limit for batch {batch}",
        "Automated visual inspection rejected 1.9 % of syringes of batch {batch} (alert "
        "limit 1.2 %), mostly for particles.",
        "DUB", "PACK", "Visual inspection machine VI-2", ("minor", "major"),
        "Rejects characterized; manual re-inspection of a sample of 500 good units passed.",
        "Silicone droplets were misclassified as particles after a camera was replaced "
        "without requalification of the recipe.",
        "equipment", "Camera replaced without recipe requalification.",
        product="{product}",
    ),
    DeviationTemplate(
        "Stopper bowl jam during aseptic fill of batch {batch}",
        "The stopper bowl jammed; an operator intervention in grade A was needed (8 min).",
        "DUB", "PACK", "Filling line {line}, grade A", ("minor",),
        "Intervention per SOP; affected units rejected; EM of the intervention within limits.",
        "Stoppers from a new lot had a slightly higher siliconization; feed rate not adjusted.",
        "material", "Stopper lot with higher siliconization.",
        product="{product}",
    ),
    DeviationTemplate(
        "Media fill: one contaminated unit in run MF-{n}",
        "One unit of media fill MF-{n} on filling line {line} showed growth "
        "(Staphylococcus epidermidis).",
        "DUB", "PACK", "Filling line {line}", ("critical",),
        "Line placed on hold for commercial fills; investigation team formed.",
        "Identification traced the isolate to an operator glove; the intervention video shows "
        "a glove touching the stopper track during a jam clearance.",
        "human_error", "Aseptic technique during an intervention.",
        gxp="Aseptic process simulation failed: the line's aseptic capability is in question.",
        capa=CapaPlan(
            "Aseptic interventions on filling line {line}",
            "A media fill failed after a manual intervention.",
            ((CORRECTIVE, "Requalify all operators of line {line} in aseptic technique"),
             (CORRECTIVE, "Repeat three consecutive media fills"),
             (PREVENTIVE, "Redesign the stopper-track guard to allow clearance with tongs")),
            "Three consecutive media fills without growth; no intervention-related finding in "
            "6 months of EM.",
        ),
    ),
    DeviationTemplate(
        "Supplier delivered syringes with a wrong certificate of analysis",
        "The CoA received with syringe lot SY-{n}71 named another lot number.",
        "DUB", "QA", "Goods receipt", ("minor",),
        "Lot quarantined until the supplier sent the right CoA.",
        "Supplier's document system picked the CoA of the previous shipment.",
        "supplier", "Supplier document control.",
        capa=CapaPlan(
            "Supplier CoA verification at goods receipt",
            "Wrong CoAs were noticed by chance, not by the receipt check.",
            ((CORRECTIVE, "Supplier corrective action request raised and closed"),
             (PREVENTIVE, "Add lot-number match to the goods-receipt checklist")),
            "No wrong CoA undetected at receipt in 6 months.",
        ),
    ),
    DeviationTemplate(
        "Differential pressure alarm between grade C and D",
        "The pressure cascade between rooms C-12 and D-03 fell to 4 Pa (limit 10 Pa) for 25 "
        "minutes.",
        "DUB", "ENG", "HVAC, filling area", ("minor",),
        "Door discipline reminded; HVAC engineer on site within 30 minutes.",
        "A supply-air damper actuator failed.",
        "equipment", "Failed damper actuator.",
    ),
    DeviationTemplate(
        "Late entry of a cleaning record on line {line}",
        "The cleaning of the filling needles was recorded two days after it was done.",
        "DUB", "PACK", "Filling line {line}", ("minor",),
        "Cleaning confirmed by the second operator and the equipment log.",
        "The tablet in the changeover room had no network; the operator wrote on paper.",
        "other", "Wireless coverage in the changeover room.",
        di="The record is contemporaneous only through the paper note.",
    ),
    # --- cyber-related ---------------------------------------------------------------------
    DeviationTemplate(
        "Shared LIMS account used for result entry in QC",
        "Security incident {ref}: the SIEM showed the account 'qc_lab' signed in to LabWare "
        "LIMS from three workstations at once; results of 18 samples were entered under it.",
        "BSL", "QC", "QC laboratory, LabWare LIMS", ("major", "critical"),
        "Account disabled; the 18 results attributed through the instrument logs and "
        "re-entered under named accounts with second-person verification.",
        "A generic account created for an instrument vendor's commissioning was never "
        "disabled and its password was known in the lab.",
        "cybersecurity", "Generic account left active after commissioning; no periodic "
        "account review of the LIMS.",
        cyber=SecurityIncident(
            "Concurrent sign-ins of the generic LIMS account qc_lab",
            "The SIEM rule for concurrent sessions fired: the account 'qc_lab' was signed in "
            "to LabWare LIMS from three QC workstations at once.",
            "LabWare LIMS (Basel QC)", accounts="qc_lab",
            records="QC result entries made under qc_lab"),
        di="Results not attributable to a named person (ALCOA+ 'attributable').",
        gxp="Release results entered without attribution.",
        capa=CapaPlan(
            "Generic accounts in laboratory systems",
            "Generic accounts existed in LIMS and two CDS installations.",
            ((CORRECTIVE, "Disable all generic accounts in LIMS and CDS"),
             (PREVENTIVE, "Quarterly user-access review of GxP systems, signed by the "
                          "system owner"),
             (PREVENTIVE, "SIEM rule for concurrent sessions of one account")),
            "Two consecutive access reviews without generic or orphan accounts.",
        ),
        evidence=("lims-session-report-{ref}.csv", "sessions"),
        comments=(("security", "The SIEM rule behind {ref} fired within 4 minutes; we "
                                "should keep it."),),
    ),
    DeviationTemplate(
        "Audit trail disabled on HPLC chromatography data system",
        "A periodic review found the audit trail of HPLC-{room} in the chromatography data "
        "system switched off for 11 days after a service visit (security incident {ref}).",
        "BSL", "QC", "QC laboratory, HPLC-{room}", ("critical",),
        "Audit trail re-enabled; all injections of the 11 days identified and reviewed.",
        "The service engineer used a local administrator account to apply a patch, which "
        "resets the audit-trail setting; no post-service configuration check existed.",
        "data_integrity", "Vendor patch reset the audit-trail setting; no configuration "
        "check after service.",
        cyber=SecurityIncident(
            "Audit trail of HPLC-{room} switched off in the chromatography data system",
            "A periodic configuration review found the audit trail of HPLC-{room} disabled "
            "since a vendor service visit 11 days earlier.",
            "Empower CDS\nHPLC-{room}", accounts="Vendor service engineer (local administrator)",
            records="Injections and result sets of HPLC-{room} during the 11 days"),
        di="Changes to chromatograms during 11 days cannot be reconstructed from the trail.",
        gxp="Results of 9 batches rely on the affected injections.",
        capa=CapaPlan(
            "Configuration baseline of chromatography data systems",
            "The CDS configuration is not verified after vendor service.",
            ((CORRECTIVE, "Review all CDS instances for audit-trail settings"),
             (PREVENTIVE, "Automated daily configuration check of CDS audit-trail "
                          "settings, alert to IT security"),
             (PREVENTIVE, "Remove local administrator rights of vendor accounts")),
            "Daily configuration checks run for 90 days; any deviation alerted within 24 h.",
        ),
        evidence=("cds-audit-config-HPLC-{room}.txt", "config"),
    ),
    DeviationTemplate(
        "Ransomware on an engineering workstation in the utilities area",
        "Endpoint protection quarantined ransomware on engineering workstation ENG-WS-{n}. "
        "Incident {ref} was opened; the workstation holds PLC programs of the WFI system.",
        "DUB", "ENG", "Utilities, engineering office", ("major", "critical"),
        "Workstation isolated from the network; PLC programs compared against the "
        "validated backup: identical.",
        "A phishing e-mail opened on the workstation, which had internet access although "
        "it sits in the OT zone.",
        "cybersecurity", "Engineering workstation with internet access in the OT zone.",
        cyber=SecurityIncident(
            "Ransomware quarantined on engineering workstation ENG-WS-{n}",
            "Endpoint protection quarantined ransomware on ENG-WS-{n} in the utilities OT "
            "zone after a phishing e-mail was opened on it.",
            "ENG-WS-{n}\nWFI system PLC programs"),
        gxp="WFI control programs potentially exposed.",
        capa=CapaPlan(
            "Internet access from the OT zone",
            "OT workstations could reach the internet and e-mail.",
            ((CORRECTIVE, "Block internet access from OT zone at the firewall"),
             (PREVENTIVE, "Jump host for engineering access with MFA"),
             (PREVENTIVE, "Phishing awareness training for engineering staff")),
            "Firewall logs show no OT-to-internet traffic for 60 days; phishing test click "
            "rate below 5 %.",
        ),
        evidence=("edr-alert-{ref}.json", "edr"),
    ),
    DeviationTemplate(
        "USB malware detected on SCADA HMI of filling line {line}",
        "The SCADA HMI of filling line {line} reported a USB device with autorun malware "
        "(security incident {ref}). An operator had plugged in a USB stick to copy a shift "
        "report.",
        "DUB", "ENG", "Filling line {line}, SCADA HMI", ("major",),
        "HMI taken offline, scanned and restored from the validated image; line restarted "
        "after verification.",
        "USB ports on the HMI were not disabled; the SOP allowed USB use for reports.",
        "cybersecurity", "Open USB ports on HMIs.",
        cyber=SecurityIncident(
            "Autorun malware from a USB stick on the SCADA HMI of filling line {line}",
            "The SCADA HMI of filling line {line} reported a USB device with autorun malware; "
            "the HMI was taken off the network.",
            "SCADA HMI, filling line {line}"),
        capa=CapaPlan(
            "Removable media on OT systems",
            "Removable media could be used on HMIs and SCADA clients.",
            ((CORRECTIVE, "Disable USB storage on all HMIs through group policy"),
             (PREVENTIVE, "Provide a scanning kiosk for files entering the OT zone")),
            "Quarterly scan finds no HMI with USB storage enabled.",
        ),
    ),
    DeviationTemplate(
        "Unauthorized recipe change in MES for {product}",
        "The MES audit trail shows the fill-volume set point of the {product} recipe "
        "changed from 1.05 to 1.08 mL without a change control (security incident {ref}).",
        "DUB", "PACK", "Werum MES, recipe management", ("major", "critical"),
        "Recipe restored to the approved version; batches filled with the changed recipe "
        "identified (2) and their fill weights reviewed: within limits.",
        "A supervisor used the recipe-edit right granted for a validation exercise and "
        "never removed.",
        "data_integrity", "Temporary recipe-edit rights not revoked.",
        cyber=SecurityIncident(
            "Recipe set point changed in the MES outside change control",
            "The MES audit trail shows a recipe set point of {product} changed by a "
            "supervisor account without a change control.",
            "Werum PAS-X MES, recipe management", accounts="Supervisor account of the "
            "packaging area", records="Recipe {product}; batch records filled with it"),
        di="A GMP recipe was changed outside change control.",
        gxp="Two batches filled with an unapproved set point.",
        capa=CapaPlan(
            "Privileged rights in the MES",
            "Temporary privileges in the MES have no expiry.",
            ((CORRECTIVE, "Review and revoke recipe-edit rights"),
             (PREVENTIVE, "Time-boxed privileged roles in the MES with automatic expiry")),
            "Access review finds no recipe-edit right outside the approved list for 2 "
            "quarters.",
        ),
    ),
    DeviationTemplate(
        "Nightly backup of the LIMS database failed for 6 days",
        "Backup monitoring (security incident {ref}) showed the LIMS database backup "
        "failing since Monday; nobody had acknowledged the e-mail alerts.",
        "BSL", "IT", "Data centre, LIMS", ("major",),
        "Manual full backup taken and restore-tested the same day.",
        "The backup service account password expired; alert e-mails went to a former "
        "employee's mailbox.",
        "cybersecurity", "Expired service-account password and outdated alert recipients.",
        cyber=SecurityIncident(
            "Nightly backup of the LIMS database failing for 6 days",
            "Backup monitoring shows every nightly backup of the LIMS database failing since "
            "Monday; the alert e-mails were not acknowledged.",
            "LabWare LIMS database\nBackup service", accounts="Backup service account"),
        di="Six days of LIMS data were not protected against loss.",
        capa=CapaPlan(
            "Backup monitoring of GxP systems",
            "Backup failures went unnoticed for days.",
            ((CORRECTIVE, "Managed service accounts for backup jobs"),
             (PREVENTIVE, "Backup failures create tickets for the IT on-call, not e-mails")),
            "Backup success rate ≥ 99 % with every failure ticketed within 1 h, over 60 "
            "days.",
        ),
    ),
    DeviationTemplate(
        "Time source of the QC network drifted by 7 minutes",
        "Security incident {ref}: instrument PCs in QC showed timestamps 7 minutes ahead "
        "of the domain time.",
        "BSL", "IT", "QC network", ("minor",),
        "NTP configuration corrected; timestamps of the period annotated.",
        "A firewall change blocked NTP from the QC VLAN.",
        "cybersecurity", "Firewall rule removed NTP access.",
        cyber=SecurityIncident(
            "QC network clocks 7 minutes ahead of the domain time",
            "Instrument PCs in the QC network no longer reach the time source; their clocks "
            "drifted 7 minutes ahead.",
            "QC instrument PCs\nNTP service of the QC network",
            records="Instrument records time-stamped during the drift"),
        di="Event times in instrument records were inaccurate by 7 minutes.",
    ),
    DeviationTemplate(
        "Phishing credentials used to sign in to the QMS",
        "Security incident {ref}: a QA associate's credentials, entered on a phishing page, "
        "were used from an unknown address; MFA blocked the sign-in.",
        "BSL", "IT", "Identity provider", ("minor",),
        "Password reset, sessions revoked, the phishing domain blocked.",
        "Targeted phishing e-mail imitating the document-management system.",
        "cybersecurity", "Phishing; MFA prevented access.",
        cyber=SecurityIncident(
            "Phished QMS credentials used from an unknown address",
            "A QA associate's credentials, entered on a page imitating the document-management "
            "system, were used to sign in from an unknown address; MFA blocked the sign-in.",
            "Identity provider\ncyberqms", accounts="A QA associate's account"),
    ),
]

STANDALONE_CAPAS: list[tuple[str, str, str, str, CapaPlan]] = [
    # (source, source reference prefix, site, description, plan)
    ("audit_finding", "IA", "BSL", "Internal audit of QC data integrity.", CapaPlan(
        "Audit trail review of chromatography data not performed",
        "The internal audit found no evidence of audit-trail review before batch release.",
        ((CORRECTIVE, "Retrospective audit-trail review of the last 3 months' release data"),
         (PREVENTIVE, "Add audit-trail review to the release checklist")),
        "Audit-trail review documented for 100 % of releases over 3 months.",
        "Review step missing from the release procedure.")),
    ("audit_finding", "SA", "DUB", "Supplier audit of the syringe manufacturer.", CapaPlan(
        "Supplier change notification not contractually required",
        "The supplier audit found the quality agreement lacks a change-notification clause.",
        ((CORRECTIVE, "Amend the quality agreement with the syringe supplier"),
         (PREVENTIVE, "Review all quality agreements for change-notification clauses")),
        "All critical suppliers' agreements contain the clause.")),
    ("audit_finding", "INSP", "DUB", "Health-authority inspection observation.", CapaPlan(
        "Inspection observation: gowning qualification records incomplete",
        "Three operators' gowning requalification records were missing signatures.",
        ((CORRECTIVE, "Complete and verify the gowning records"),
         (PREVENTIVE, "Gowning qualification tracked in the training system")),
        "No missing gowning qualification in the next two self-inspections.")),
    ("audit_finding", "IA", "BSL", "Internal IT audit of OT security.", CapaPlan(
        "OT network segmentation not documented",
        "The internal audit found no up-to-date zone and conduit diagram (IEC 62443).",
        ((CORRECTIVE, "Document zones and conduits of the Basel OT network"),
         (PREVENTIVE, "Review the diagram with every firewall change")),
        "Diagram current at the next audit; every firewall change references it.")),
    ("security_incident", "INC", "BSL", "Security incident.", CapaPlan(
        "Vendor remote access without session recording",
        "A vendor connected to the bioreactor control system without the session being "
        "recorded.",
        ((CORRECTIVE, "Route vendor access through the privileged-access gateway"),
         (PREVENTIVE, "Remove the vendor's standing VPN account")),
        "All vendor sessions in 90 days recorded and approved.")),
    ("security_incident", "INC", "DUB", "Security incident.", CapaPlan(
        "Unpatched historian server exposed to the office network",
        "Vulnerability scan found the historian reachable from the office LAN with a "
        "critical CVE.",
        ((CORRECTIVE, "Patch the historian and restrict access to the OT DMZ"),
         (PREVENTIVE, "Monthly vulnerability scans of OT DMZ hosts")),
        "No critical vulnerability older than 30 days on OT DMZ hosts for 3 months.")),
    ("security_incident", "INC", "BSL", "Security incident.", CapaPlan(
        "Orphan accounts in the document-management system",
        "Accounts of 6 leavers were still active in the document-management system.",
        ((CORRECTIVE, "Disable orphan accounts"),
         (PREVENTIVE, "Leaver process triggers deprovisioning in all GxP systems")),
        "Monthly reconciliation shows no orphan account for 3 months.")),
    ("complaint", "CMP", "DUB", "Customer complaint.", CapaPlan(
        "Complaint: particle in a prefilled syringe",
        "A pharmacy returned a syringe with a visible fibre.",
        ((CORRECTIVE, "Investigate retained samples of the batch"),
         (PREVENTIVE, "Review gowning fibre shedding and tacky-mat replacement")),
        "Complaint rate for particles below 0.5 per million units over 6 months.")),
    ("complaint", "CMP", "DUB", "Customer complaint.", CapaPlan(
        "Complaint: pen injector needle shield hard to remove",
        "Several patients reported needle shields that needed excessive force.",
        ((CORRECTIVE, "Test removal force of retained samples"),
         (PREVENTIVE, "Add removal force to incoming inspection of needle shields")),
        "Removal force in specification for 10 consecutive lots.")),
    ("complaint", "CMP", "DUB", "Customer complaint.", CapaPlan(
        "Complaint: illegible lot number on carton",
        "A wholesaler could not read the lot number on cartons of one batch.",
        ((CORRECTIVE, "Replace the inkjet print head on line 2"),
         (PREVENTIVE, "Print-quality check by the vision system")),
        "No illegible print detected by the vision system over 3 months.")),
    ("other", "MR", "BSL", "Management review.", CapaPlan(
        "Deviation backlog above target in QC",
        "Management review found 30 % of QC deviations closed after their due date.",
        ((CORRECTIVE, "Weekly backlog meeting with QA"),
         (PREVENTIVE, "Triage within 2 working days as a KPI")),
        "80 % of QC deviations closed on time over a quarter.")),
    ("audit_finding", "IA", "DUB", "Internal audit of computerized systems.", CapaPlan(
        "Periodic review of the MES overdue",
        "The periodic review of the MES was 8 months overdue.",
        ((CORRECTIVE, "Perform the MES periodic review"),
         (PREVENTIVE, "Periodic reviews scheduled in the QMS with reminders")),
        "All computerized-system periodic reviews done on time for a year.")),
    ("security_incident", "INC", "DUB", "Security incident.", CapaPlan(
        "Weak TLS on the LIMS interface to the MES",
        "Penetration test found TLS 1.0 enabled on the LIMS–MES interface.",
        ((CORRECTIVE, "Disable TLS 1.0/1.1 on the interface"),
         (PREVENTIVE, "Add TLS configuration to the system hardening baseline")),
        "Quarterly scan shows TLS 1.2+ only.")),
    ("audit_finding", "SA", "BSL", "Supplier audit of the cell-culture media supplier.",
     CapaPlan(
        "Media supplier lacks traceability of animal-origin components",
        "The supplier could not show the origin of one component.",
        ((CORRECTIVE, "Obtain TSE/BSE statements for all components"),
         (PREVENTIVE, "Add origin traceability to the supplier questionnaire")),
        "Complete statements for all media lots received in 6 months.")),
]

SOPS = ["QA-014 Deviation management", "QA-021 CAPA management", "QC-102 OOS investigation",
        "IT-007 User access management", "PR-033 Line clearance", "EN-011 Preventive maintenance",
        "IT-012 Backup and restore", "QA-030 Change control"]
PARTS = ["dosing pump head", "needle holder", "star wheel", "stopper chute", "capping head"]


@dataclass(frozen=True)
class ChangeTemplate:
    title: str
    change_type: str
    site: str
    justification: str
    description: str
    scope: str
    quality: str
    validation: str
    regulatory: str
    cyber_assessment: str
    cyber: tuple[str, ...] = ()  # the cybersecurity questions answered yes
    tasks: tuple[str, ...] = ()
    revalidation: bool = False
    filing: bool = False


CHANGES: list[ChangeTemplate] = [
    ChangeTemplate(
        "New LIMS interface to the MES for electronic release",
        "computerized_system", "DUB",
        "Manual transcription of release results into the MES causes errors.",
        "Results are sent from LabWare LIMS to Werum MES through a new web-service interface.",
        "LIMS, MES, interface middleware.",
        "Removes transcription errors; no product impact.",
        "Interface validation (IQ/OQ/PQ) of the data transfer.",
        "None: not a registered element.",
        "New interface between OT and IT zones; new service account; TLS 1.3 with mutual "
        "authentication.",
        cyber=("new_interfaces", "new_accounts", "data_flow_change"),
        tasks=("Configure the interface service account", "Execute interface OQ",
               "Update the data-flow diagram"),
        revalidation=True),
    ChangeTemplate(
        "MES upgrade to PAS-X 3.3 SP2",
        "software", "DUB",
        "Vendor support of the current service pack ends.",
        "Upgrade of the Werum MES application and database servers.",
        "MES servers and clients, recipes unchanged.",
        "None expected; recipes are migrated unchanged.",
        "Regression test of electronic batch record and recipe functions.",
        "None.",
        "New application servers; the security patch level improves; no new interface.",
        cyber=("network_exposure",),
        tasks=("Install the new servers", "Migrate the database", "Regression testing",
               "Go-live and hypercare"),
        revalidation=True),
    ChangeTemplate(
        "Firewall rule for historian replication to the corporate data lake",
        "computerized_system", "BSL",
        "Process data are needed for continued process verification.",
        "A one-way replication from the OT historian to the data lake through the DMZ.",
        "OT DMZ firewall, historian.",
        "None.",
        "Verification of data completeness.",
        "None.",
        "New conduit OT DMZ → corporate; one-way, read-only replication account.",
        cyber=("network_exposure", "data_flow_change", "new_accounts"),
        tasks=("Implement firewall rule", "Verify replication"),
    ),
    ChangeTemplate(
        "New remote access for the SCADA vendor",
        "computerized_system", "DUB",
        "Vendor support during night shifts needs remote access.",
        "Vendor access through the privileged-access gateway with session recording and "
        "approval per session.",
        "SCADA Fill Line 2, privileged-access gateway.",
        "None.",
        "Test of access approval, recording and revocation.",
        "None.",
        "New external access path into the OT zone; MFA, session recording, time-boxed "
        "accounts.",
        cyber=("network_exposure", "new_accounts"),
        tasks=("Configure the gateway", "Test approval workflow", "Update the SOP"),
    ),
    ChangeTemplate(
        "Replace the stopper bowl of filling line 2",
        "equipment", "DUB",
        "Recurring stopper jams with the current bowl geometry.",
        "Replace the vibratory stopper bowl with the vendor's redesigned bowl.",
        "Filling line 2 stoppering station.",
        "Fewer interventions in grade A; no product contact change (same material).",
        "IQ/OQ of the bowl; media fill after installation.",
        "None.",
        "No computerized component changes.",
        tasks=("Install the new bowl", "IQ/OQ", "Media fill"),
        revalidation=True),
    ChangeTemplate(
        "SOP {sop} revision",
        "document", "BSL",
        "Align the procedure with the QMS workflow and the findings of recent deviations.",
        "Revision of SOP {sop}.",
        "All departments raising deviations.",
        "None.",
        "None.",
        "None.",
        "None.",
        tasks=("Approve the SOP revision", "Train QA and process owners")),
    ChangeTemplate(
        "Second supplier for 1 mL glass syringes",
        "supplier", "DUB",
        "Single-source risk for the primary container.",
        "Qualify a second supplier of 1 mL long glass syringes.",
        "Primary packaging of CQ-101.",
        "Container closure integrity and extractables to be confirmed.",
        "Stability and CCI studies.",
        "Variation to the marketing authorisation required.",
        "None.",
        tasks=("Supplier audit", "Stability study set-up", "Regulatory variation"),
        revalidation=True, filing=True),
    ChangeTemplate(
        "Increase bioreactor working volume to 2000 L",
        "process", "BSL",
        "Capacity for CQ-117 launch demand.",
        "Scale-up of the production bioreactor step from 1500 to 2000 L.",
        "Upstream process of CQ-117.",
        "Comparability of product quality to be shown.",
        "Process validation of three batches.",
        "Post-approval change submission.",
        "No change to automation beyond set points.",
        tasks=("Engineering run", "Process validation batches", "Comparability report"),
        revalidation=True, filing=True),
    ChangeTemplate(
        "New temperature-mapping system for the warehouse",
        "computerized_system", "BSL",
        "The current loggers are obsolete.",
        "Wireless loggers with a cloud dashboard replace the local system.",
        "Warehouse and cold rooms.",
        "Improves monitoring.",
        "CSV of the new system; mapping study.",
        "None.",
        "New cloud service holding GxP data; new wireless network segment.",
        cyber=("network_exposure", "data_flow_change"),
        tasks=("Supplier assessment of the cloud service", "Install loggers", "Mapping study"),
        revalidation=True),
    ChangeTemplate(
        "Windows 11 rollout on QC instrument PCs",
        "software", "BSL",
        "Windows 10 end of support.",
        "Upgrade of 24 instrument PCs, instrument software re-installed.",
        "QC instrument PCs.",
        "None.",
        "Re-qualification of instrument software per PC.",
        "None.",
        "Security baseline applied; local accounts reviewed.",
        cyber=("new_accounts",),
        tasks=("Pilot on two PCs", "Roll out", "Requalify instrument software"),
        revalidation=True),
    ChangeTemplate(
        "Change of cleaning agent for grade A/B surfaces",
        "process", "DUB",
        "Supplier discontinues the current sporicidal agent.",
        "Switch to a hydrogen-peroxide/peracetic-acid based agent.",
        "Aseptic filling rooms.",
        "Disinfectant efficacy to be shown.",
        "Disinfectant efficacy study.",
        "None.",
        "None.",
        tasks=("Efficacy study", "Update SOPs", "Train cleaning staff")),
    ChangeTemplate(
        "Add checkweigher to packaging line 3",
        "equipment", "DUB",
        "Missing leaflet detection.",
        "A checkweigher after the cartoner rejects cartons below weight.",
        "Packaging line 3.",
        "Improves detection of missing components.",
        "IQ/OQ/PQ of the checkweigher.",
        "None.",
        "The checkweigher reports to SCADA over the existing OT network; no new accounts.",
        cyber=("new_interfaces",),
        tasks=("Install", "Qualify", "Connect to SCADA")),
    ChangeTemplate(
        "Update of the product label template for CQ-205",
        "document", "DUB",
        "New storage statement approved by the authority.",
        "New label and carton artwork.",
        "CQ-205 labels and cartons.",
        "Labelling text change as approved.",
        "None.",
        "Approved variation implemented.",
        "None.",
        tasks=("Approve artwork", "Update label server templates")),
    ChangeTemplate(
        "Replace the WFI loop UV lamp type",
        "equipment", "BSL",
        "The current lamp type is discontinued.",
        "A lamp of equivalent wavelength and intensity from another manufacturer.",
        "WFI loop, building 2.",
        "None expected.",
        "Microbial monitoring of the loop for 4 weeks.",
        "None.",
        "None.",
        tasks=("Install lamps", "Enhanced monitoring")),
    ChangeTemplate(
        "Electronic logbooks for the downstream suite",
        "computerized_system", "BSL",
        "Paper logbooks cause late and illegible entries.",
        "Electronic equipment logbooks in the MES.",
        "Downstream suite equipment.",
        "None.",
        "CSV of the logbook module.",
        "None.",
        "Uses the existing MES; new tablets on the production Wi-Fi.",
        cyber=("network_exposure",),
        tasks=("Configure logbooks", "Validate", "Train operators")),
    ChangeTemplate(
        "New {part} design for filling line {line}",
        "equipment", "DUB",
        "The current part wears quickly and causes stoppages.",
        "Replace the {part} with the manufacturer's revised design (same materials).",
        "Filling line {line}.",
        "No product-contact material change.",
        "IQ/OQ of the part; performance run.",
        "None.",
        "No computerized component changes.",
        tasks=("Install the part", "IQ/OQ", "Performance run")),
]
