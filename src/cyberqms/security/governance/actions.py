"""Actions of access governance besides the record families' own, declared to the gate."""

from cyberqms.platform.core.access import declare

# A reviewer decides the items a campaign names them for: any active person may be a
# manager, so the right is everyone's, and the service admits only the named reviewer.
DECIDE = declare("access_reviews.decide",
                 "Decide and sign the access reviews you are named reviewer of",
                 self_service=True)
GOVERNANCE_VIEW = declare("access.governance.view",
                          "See access governance: findings, campaigns, the use of rights, "
                          "the segregation-of-duties matrix", read=True)
SCAN = declare("access.governance.scan", "Run a drift scan now")
USAGE_VIEW = declare("access.usage.view", "See how a person uses their rights", read=True)
PROPOSE = declare("access.governance.propose",
                  "Accept a least-privilege suggestion: raise the change control that "
                  "changes the roles")
