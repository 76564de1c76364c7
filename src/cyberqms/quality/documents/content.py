"""A version's content as people read it: Markdown to HTML (pages and the controlled copy)
and the differences between two versions' texts.

Markdown is rendered by markdown-it-py with raw HTML off (a `<script>` in a document is
shown as text, never run) and without images: a controlled copy refers to nothing
outside itself, and the pages' Content-Security-Policy would refuse them anyway. Links
keep markdown-it's own check, which refuses `javascript:`, `vbscript:`, `file:` and
`data:` targets.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@cache
def _renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt  # imported when a document is first shown

    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(
        "table").disable("image")


def render_markdown(text: str) -> SafeString:
    """The HTML of `text`; safe to place in a page (no raw HTML, no images, safe links)."""
    html: str = _renderer().render(text or "")
    return mark_safe(html)  # noqa: S308  (markdown-it escapes every raw tag: html=False)


LONG = 2000  # lines


@dataclass(frozen=True)
class DiffRow:
    """One line of a side-by-side comparison: `kind` is same, changed, added or removed."""

    kind: str
    old_no: int | None
    old: str
    new_no: int | None
    new: str


def diff_rows(old: str, new: str, *, context: int = 3) -> list[DiffRow]:
    """The lines of `new` against `old`, with `context` unchanged lines around each change
    (a gap between groups is one row of kind "gap")."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    rows: list[DiffRow] = []
    # Long texts let difflib ignore their most frequent lines when matching (its
    # "autojunk"): the comparison stays fast whatever a text repeats.
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=len(a) + len(b) > LONG)
    for group in matcher.get_grouped_opcodes(context):
        if rows:
            rows.append(DiffRow("gap", None, "", None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [DiffRow("same", i + 1, a[i], j + 1, b[j])
                         for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
                continue
            olds, news = list(range(i1, i2)), list(range(j1, j2))
            for k in range(max(len(olds), len(news))):
                i = olds[k] if k < len(olds) else None
                j = news[k] if k < len(news) else None
                kind = "changed" if i is not None and j is not None else (
                    "removed" if i is not None else "added")
                rows.append(DiffRow(kind, None if i is None else i + 1,
                                    "" if i is None else a[i],
                                    None if j is None else j + 1,
                                    "" if j is None else b[j]))
    return rows
