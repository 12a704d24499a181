"""compare.html: the comparison as one self-contained page, in the look of report.html.

Rendered from compare.json's data by the reports' Jinja environment (autoescape,
the ``visible`` filter for server text, report.css inlined): no script, no
external resource.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from ..reports.html import render_page
from .summary import differences_of

EXAMPLES_PER_GROUP = 10
"""Requests shown with their curl lines per group; compare.json lists every one."""
CURL_INLINE = 700
"""Characters of a curl line shown inline; a longer one (a long body inline) folds into <details>."""
HEADLINE_CSS = {"same": "pass", "different": "fail", "incomplete": "incomplete"}


@cache
def _template() -> str:
    return resources.files(__package__).joinpath("compare.html.j2").read_text("utf-8")


def render_html(summary: dict[str, Any]) -> str:
    groups = [(group, differences_of(summary, group)[:EXAMPLES_PER_GROUP]) for group in summary["groups"]]
    return render_page(
        _template(),
        s=summary,
        groups=groups,
        headline_css=HEADLINE_CSS[summary["result"]],
        examples_per_group=EXAMPLES_PER_GROUP,
        CURL_INLINE=CURL_INLINE,
    )
