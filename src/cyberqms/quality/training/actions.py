"""Actions of training, declared to the access gate (granted in accounts.roles)."""

from cyberqms.platform.core.access import declare

SELF = declare("training.self", "See one's own training and sign one's readings",
               self_service=True)
VIEW = declare("training.view", "See everyone's training: the matrix, training records",
               gxp=True, read=True)
DELIVER = declare("training.deliver",
                  "Sign off sessions and on-the-job training as the trainer (e-signature)",
                  gxp_write=True)
MANAGE = declare("training.manage",
                 "Set curricula and the training a workflow step needs (under change control)",
                 gxp_write=True)
