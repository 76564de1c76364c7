"""Actions of HR provisioning, declared to the gate when the app is ready."""

from cyberqms.platform.core.access import declare

SCIM_ENDPOINT = declare("scim.endpoint", "Reach the SCIM endpoint (each call authenticates "
                        "with an integration's token)", public=True)
SCIM_PROVISION = declare("accounts.scim.provision",
                         "Provision people and their roles over SCIM (an HR integration)")
HR_IMPORT = declare("accounts.hr.import", "Import HR data (joiners, movers, leavers) from a "
                    "CSV file")
ACCOUNTS_IMPORT = declare("access.governance.accounts",
                          "Import the user list of a computerized system (its accounts, "
                          "reviewed by its owner)")
