"""Actions of the foundation, declared to the access gate."""

from cyberqms.platform.core.access import declare

# Public and self-service.
HEALTH = declare("system.health", "Read service health", public=True)
LOGIN = declare("account.login", "Sign in, sign out, reset a forgotten password", public=True)
SETUP = declare("account.setup", "Change one's password, enrol and manage MFA", setup=True)
SELF = declare("account.self", "Use one's own home page, profile, MFA and tokens",
               self_service=True)

# Administration (never GxP: administrators manage people and configuration only).
USER_VIEW = declare("accounts.user.view", "See users and their roles", read=True)
USER_MANAGE = declare("accounts.user.manage", "Create, edit, deactivate, unlock users")
ROLE_MANAGE = declare("accounts.role.manage", "Grant and revoke roles")
SITE_MANAGE = declare("accounts.site.manage", "Manage sites and departments")
INTEGRATION_VIEW = declare("accounts.integration.view", "See registered integrations",
                           read=True)
INTEGRATION_MANAGE = declare("accounts.integration.manage", "Register integrations, issue tokens")
TOKEN_MANAGE = declare("accounts.token.manage", "Revoke any user's API tokens")

# Security oversight.
DECISION_VIEW = declare("access.decision.view", "Read the access-decision log", read=True)
EVENT_VIEW = declare("security.event.view", "Read security events", read=True)
