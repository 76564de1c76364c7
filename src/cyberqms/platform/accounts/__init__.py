"""People, roles, sites, integrations and API tokens."""
