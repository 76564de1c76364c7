"""Loading Sigma rule files: broken rules are reported with file and reason (CYB-04)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cyberqms.security.detect.detection import (
    SHIPPED_RULES_DIR,
    Engine,
    load_rules,
    parse_rules,
)
from cyberqms.security.monitoring.rules import load_configured_rules

GOOD = """\
title: good rule
id: 20000000-0000-4000-8000-000000000001
name: good_rule
status: test
logsource:
  product: cyberqms
detection:
  sel:
    class_uid: 3002
  condition: sel
level: low
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def messages(folder: Path) -> list[str]:
    return [str(e).replace(str(folder) + "/", "") for e in load_rules([folder]).errors]


def test_good_rules_load_from_nested_folders(tmp_path: Path) -> None:
    write(tmp_path, "a/good.yml", GOOD)
    write(tmp_path, "b/other.yaml", GOOD.replace("0001", "0002").replace("good_rule", "other"))
    write(tmp_path, "notes.txt", "not a rule")
    loaded = load_rules([tmp_path])
    assert loaded.errors == []
    assert [r.title for r in loaded.rules] == ["good rule", "good rule"]
    assert loaded.files == [str(tmp_path / "a/good.yml"), str(tmp_path / "b/other.yaml")]


def test_invalid_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, "broken.yml", "title: x\ndetection: [unclosed\n")
    write(tmp_path, "good.yml", GOOD)
    loaded = load_rules([tmp_path])
    assert [r.title for r in loaded.rules] == ["good rule"]
    assert messages(tmp_path) == [
        "broken.yml: invalid YAML (line 3): expected ',' or ']', but got '<stream end>'"
    ]


def test_rule_errors_name_file_rule_and_reason(tmp_path: Path) -> None:
    write(tmp_path, "modifier.yml", GOOD.replace("class_uid:", "class_uid|bogus:"))
    write(tmp_path, "condition.yml", GOOD.replace("condition: sel", "condition: sel and nope"))
    write(tmp_path, "nodetection.yml", "title: empty\nlogsource: {product: x}\n")
    write(tmp_path, "regex.yml", GOOD.replace("class_uid: 3002", "message|re: '(unclosed'"))
    found = messages(tmp_path)
    assert found[:3] == [
        "condition.yml: rule 'good rule': Detection 'nope' not defined in detections",
        "modifier.yml: rule 'good rule': Unknown modifier 'bogus'",
        "nodetection.yml: rule 'empty': Sigma rule must have a detection definitions",
    ]
    assert found[3].startswith("regex.yml: rule 'good rule': Regular expression '(unclosed' is invalid")
    assert len(found) == 4


def test_condition_errors_are_load_errors(tmp_path: Path) -> None:
    write(tmp_path, "condition.yml", GOOD.replace("condition: sel", "condition: (sel"))
    loaded = load_rules([tmp_path])
    engine = Engine(loaded)
    assert loaded.rules == []
    assert engine.rules == []
    assert [e.reason.split(",")[0] for e in engine.errors] == ["Unbalanced parentheses or expression syntax error"]


def test_non_mapping_and_undecodable_files_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "list.yml", "- just\n- a list\n")
    write(tmp_path, "latin1.yml", "title: caf\xe9\n".encode("latin-1"))
    found = messages(tmp_path)
    assert found[0].startswith("latin1.yml: unreadable: 'utf-8' codec can't decode")
    assert found[1].startswith("list.yml: not a Sigma rule document (AttributeError")


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD)
    write(tmp_path, "b.yml", GOOD.replace("good rule", "copy").replace("good_rule", "copy"))
    loaded = load_rules([tmp_path])
    assert [r.title for r in loaded.rules] == ["good rule"]
    assert messages(tmp_path) == [
        "b.yml: rule 'copy': duplicate rule id 20000000-0000-4000-8000-000000000001 "
        "(already loaded from a.yml)"
    ]


CORRELATION = """\
title: many
id: 20000000-0000-4000-8000-000000000009
status: test
correlation:
  type: event_count
  rules: [{ref}]
  group-by: [actor.user.name]
  timespan: 1m
  condition:
    gte: 2
level: high
"""


def test_correlations_resolve_across_files_and_report_unknown_references(tmp_path: Path) -> None:
    write(tmp_path, "base.yml", GOOD)
    write(tmp_path, "corr.yml", CORRELATION.format(ref="good_rule"))
    write(
        tmp_path,
        "dangling.yml",
        CORRELATION.format(ref="missing_rule").replace("0009", "0010").replace("many", "dangling"),
    )
    loaded = load_rules([tmp_path])
    assert messages(tmp_path) == [
        "dangling.yml: rule 'dangling': Rule 'missing_rule' not found in rule collection"
    ]
    engine = Engine(loaded)
    assert engine.errors == loaded.errors
    event = {"class_uid": 3002, "time": 0, "actor": {"user": {"name": "ana"}}}
    assert [m.title for m in engine.evaluate_many([event, event])] == ["many"]


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    loaded = load_rules([tmp_path / "absent"])
    assert [str(e) for e in loaded.errors] == [f"{tmp_path}/absent: rule folder does not exist"]


def test_parse_rules_reports_the_given_source() -> None:
    loaded = parse_rules("title: x\nlogsource: {product: y}\n", "inline")
    assert [str(e) for e in loaded.errors] == [
        "inline: rule 'x': Sigma rule must have a detection definitions"
    ]


def test_malformed_requirements_are_rejected_at_compile_time() -> None:
    engine = Engine(parse_rules(GOOD + "requirements: [cyb 4]\n", "r.yml"))
    assert [str(e) for e in engine.errors] == [
        "r.yml: rule 'good rule': malformed requirement IDs: CYB 4"
    ]


def test_configured_folder_adds_to_the_shipped_pack(
    tmp_path: Path, settings: Any
) -> None:
    shipped = len(load_rules([SHIPPED_RULES_DIR]).rules)
    settings.CYBERQMS_SIGMA_RULES_DIR = None
    assert len(load_configured_rules().rules) == shipped
    write(tmp_path, "site.yml", GOOD)
    settings.CYBERQMS_SIGMA_RULES_DIR = str(tmp_path)
    loaded = load_configured_rules()
    assert loaded.errors == []
    assert len(loaded.rules) == shipped + 1
    assert loaded.rules[-1].title == "good rule"
