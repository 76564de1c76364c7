#!/usr/bin/env python3
"""Figures of the code's shape, for the house issue: lines of Python per record family
(without tests and migrations) and of its tests, import cycles between top-level packages
of `cyberqms` (a layer's packages count one by one: platform/core, platform/trail …), and
modules over 800 lines.

    python scripts/house_metrics.py [--root src/cyberqms]

Imports are read from the source (ast), module-level and inside functions alike: a lazy
import is still a dependency.
"""

from __future__ import annotations

import argparse
import ast
from collections import defaultdict
from pathlib import Path

FAMILIES = ("quality/deviations", "quality/capa", "quality/changes", "security/incidents",
            "quality/complaints")
LAYERS = ("platform", "quality", "security")


def lines(paths: list[Path]) -> int:
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in paths)


def python_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if "migrations" not in p.parts]


def package_of(root: Path, path: Path) -> str:
    rel = path.relative_to(root).parts
    if rel[0] in LAYERS and len(rel) > 2:
        return "/".join(rel[:2])
    return rel[0].removesuffix(".py")


def imported_packages(root: Path, path: Path) -> set[str]:
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(root).with_suffix("").parts
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[: len(here) - node.level])
                names = [".".join(["cyberqms", *base, *(node.module or "").split(".")])]
            else:
                names = [node.module or ""]
        for name in names:
            parts = name.split(".")
            if parts[0] != "cyberqms" or len(parts) < 2:
                continue
            target = root.joinpath(*parts[1:])
            if parts[1] in LAYERS and len(parts) > 2:
                found.add(f"{parts[1]}/{parts[2]}")
            elif target.exists() or target.with_suffix(".py").exists() or len(parts) >= 2:
                found.add(parts[1])
    return found


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a in graph for b in graph[a] if a < b and a in graph.get(b, set()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="src/cyberqms")
    root = Path(parser.parse_args().root)
    print("Lines of Python per family (code / tests):")
    for family in FAMILIES:
        folder = root / family
        if not folder.exists():
            continue
        code = [p for p in python_files(folder) if "tests" not in p.parts]
        tests = [p for p in python_files(folder) if "tests" in p.parts]
        print(f"  {family:22} {lines(code):6,} / {lines(tests):6,}")
    graph: dict[str, set[str]] = defaultdict(set)
    for path in python_files(root):
        if "tests" in path.parts or len(path.relative_to(root).parts) == 1:
            continue
        source = package_of(root, path)
        graph[source] |= imported_packages(root, path) - {source}
    found = cycles(graph)
    print(f"Import cycles between packages (tests excluded): {len(found)}")
    for a, b in found:
        print(f"  {a} <-> {b}")
    big = sorted(((lines([p]), p) for p in python_files(root) if lines([p]) > 800),
                 reverse=True)
    print(f"Modules over 800 lines: {len(big)}")
    for n, p in big:
        print(f"  {n:5,}  {p.relative_to(root)}")


if __name__ == "__main__":
    main()
