"""The navigation, by role: an entry shows only when the gate would allow its action."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    action: str
    icon: str


@dataclass(frozen=True)
class NavSection:
    title: str
    items: tuple[NavItem, ...]


NAVIGATION: tuple[NavSection, ...] = (
    NavSection("Workspace", (
        NavItem("Home", "web:home", "account.self", "home"),
        NavItem("Notifications", "notifications:inbox", "notifications.inbox.view", "bell"),
    )),
    NavSection("Quality", (
        NavItem("Deviations", "deviations:list", "deviations.view", "alert"),
        NavItem("CAPA", "capa:list", "capa.view", "check"),
        NavItem("Change control", "changes:list", "changes.view", "shuffle"),
    )),
    NavSection("Data integrity", (
        NavItem("Audit trail", "trail:entries", "trail.entry.view", "list"),
        NavItem("Trail status", "trail:status", "trail.status.view", "check"),
        NavItem("Trail reviews", "trail:reviews", "trail.entry.view", "eye"),
    )),
    NavSection("Security", (
        NavItem("Monitoring", "monitoring:overview", "monitoring.alert.view", "chart"),
        NavItem("Security alerts", "monitoring:alerts", "monitoring.alert.view", "siren"),
        NavItem("Security events", "accounts:security_events", "security.event.view", "alert"),
        NavItem("Access decisions", "accounts:access_decisions", "access.decision.view",
                "shield"),
        NavItem("Integrations", "accounts:integration_list", "accounts.integration.view",
                "plug"),
    )),
    NavSection("Administration", (
        NavItem("Users", "accounts:user_list", "accounts.user.view", "users"),
        NavItem("Sites", "accounts:site_list", "accounts.site.manage", "building"),
    )),
    NavSection("Me", (
        NavItem("Profile and security", "accounts:profile", "account.self", "user"),
        NavItem("API", "api:openapi-view", "account.self", "code"),
    )),
)
