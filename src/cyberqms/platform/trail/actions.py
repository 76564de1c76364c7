"""Actions of the audit trail, declared to the access gate."""

from cyberqms.platform.core.access import declare

HISTORY_VIEW = declare(
    "trail.history.view", "See the history tab of records one may see", gxp=True,
    read=True,
)
ENTRY_VIEW = declare("trail.entry.view", "Search and read the whole audit trail", gxp=True,
                     read=True)
EXPORT = declare("trail.export", "Export audit-trail entries with proofs (CSV, JSON, JSONL)",
                 gxp=True)
STATUS_VIEW = declare("trail.status.view", "See checkpoints, verifications and integrity flags",
                      read=True)
PROOF_VIEW = declare("trail.proof.view", "Fetch checkpoints and inclusion/consistency proofs",
                     read=True)
VERIFY = declare("trail.verify.run", "Run a trail verification or seal a checkpoint now")
FLAG_RESOLVE = declare("trail.flag.resolve", "Resolve an integrity failure with a reason")
REVIEW = declare(
    "trail.review.create", "Review a record's audit trail or a date range",
    gxp_write=True,
)
