"""docs/workflows/ is generated from the transition tables and checked for staleness."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from cyberqms.platform.kit.management.commands.workflows import expected_files, render
from cyberqms.platform.kit.records import all_kinds


def test_committed_workflow_docs_match_the_tables() -> None:
    """Fails when a table changed without `cyberqms workflows` being run."""
    call_command("workflows", "--check")


def test_every_kind_documents_every_transition() -> None:
    kinds = all_kinds()
    assert {k.slug for k in kinds} >= {"deviations", "capa", "changes"}
    for kind in kinds:
        text = render(kind)
        for t in kind.workflow.transitions:
            for source in t.sources:
                assert f"{source} --> {t.target}: {t.action} [{t.permission}]" in text


def test_check_fails_on_an_edited_document(tmp_path: Path, settings: Any) -> None:
    shutil.copytree(Path(settings.PROJECT_ROOT) / "docs" / "workflows",
                    tmp_path / "docs" / "workflows")
    settings.PROJECT_ROOT = tmp_path
    call_command("workflows", "--check")
    target = next(iter(expected_files()))
    target.write_text(target.read_text(encoding="utf-8") + "\nhand edit\n", encoding="utf-8")
    with pytest.raises(CommandError, match=target.name):
        call_command("workflows", "--check")
    call_command("workflows")
    call_command("workflows", "--check")


def test_docs_live_in_the_project() -> None:
    assert (Path(settings.PROJECT_ROOT) / "docs" / "workflows").is_dir()
