"""The navigation, by role: an entry shows only when the gate would allow its action.

Record families on the kit add their own entry (`RecordKind.nav_section`) to the end of
that section; nothing here names them."""

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
        NavItem("My training", "training:mine", "training.self", "book"),
    )),
    NavSection("Quality", (
        NavItem("Training", "training:matrix", "training.view", "grid"),
    )),
    NavSection("Systems and risk", ()),
    NavSection("Data integrity", (
        NavItem("Audit trail", "trail:entries", "trail.entry.view", "list"),
        NavItem("Trail status", "trail:status", "trail.status.view", "check"),
        NavItem("Trail reviews", "trail:reviews", "trail.entry.view", "eye"),
    )),
    NavSection("Security", (
        NavItem("Monitoring", "monitoring:overview", "monitoring.alert.view", "chart"),
        NavItem("Security alerts", "monitoring:alerts", "monitoring.alert.view", "siren"),
        NavItem("Security events", "accounts:security_events", "security.event.view", "alert"),
        NavItem("Access governance", "governance:overview", "access.governance.view", "key"),
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


def navigation_sections() -> tuple[NavSection, ...]:
    """NAVIGATION with every registered family's entry in its declared section."""
    from cyberqms.platform.kit.records import registered_kinds

    added: dict[str, list[NavItem]] = {}
    for kind in sorted(registered_kinds(), key=lambda k: (k.nav_order, k.plural_label)):
        if kind.on_kit and kind.nav_section:
            added.setdefault(kind.nav_section, []).append(
                NavItem(kind.plural_label, f"{kind.slug}:list", kind.view_action, kind.nav_icon))
    return tuple(
        NavSection(section.title, (*added.get(section.title, ()), *section.items))
        for section in NAVIGATION
    )
