"""Domain-free foundations: request context, the access gate, security events, problems."""
