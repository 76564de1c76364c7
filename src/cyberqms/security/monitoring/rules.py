"""The rules the monitoring app runs: the shipped pack plus the site's own folder
(`settings.CYBERQMS_SIGMA_RULES_DIR`), read through the detection library's loader."""

from __future__ import annotations

from pathlib import Path

from cyberqms.security.detect.detection.loader import (
    RULES_DIR_SETTING,
    SHIPPED_RULES_DIR,
    RuleSet,
    load_rules,
)


def configured_rules_dir() -> Path | None:
    """The site's extra rule folder (`settings.CYBERQMS_SIGMA_RULES_DIR`), if any."""
    from django.conf import settings

    if not settings.configured:
        return None
    value = getattr(settings, RULES_DIR_SETTING, None)
    return Path(value) if value else None


def load_configured_rules() -> RuleSet:
    """The shipped pack plus the site's folder, when one is configured."""
    folders = [SHIPPED_RULES_DIR]
    extra = configured_rules_dir()
    if extra is not None:
        folders.append(extra)
    return load_rules(folders)
