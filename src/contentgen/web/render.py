"""Markdown of a piece -> HTML that is safe to show in a page.

Model output is untrusted: a piece may contain raw HTML (``<script>``, ``<iframe>``, event
handlers) or links to ``javascript:`` URLs, by accident or because a topic asked for them. Two
layers, each enough on its own for the common cases:

1. markdown-it-py (CommonMark, tables and strikethrough on) with raw HTML **off**: HTML in the
   Markdown comes out as escaped text, and its link validator drops ``javascript:``,
   ``vbscript:``, ``file:`` and ``data:`` link targets.
2. nh3 (the Rust ``ammonia`` sanitiser) then keeps only an allow-list of tags and attributes,
   only ``http``/``https``/``mailto`` URLs (and relative ones), and marks every link
   ``rel="noopener noreferrer nofollow"``. Images and ``style`` attributes are dropped: a
   piece must not make the reader's browser fetch from a server the model chose, and the
   page's policy allows no inline styles.

The page adds a Content-Security-Policy without inline scripts as a third layer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Removed with everything inside them (other unknown tags keep their text).
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math",
})  # fmt: skip


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}
                      ).enable(["table", "strikethrough"])  # fmt: skip


def sanitise_html(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes of ``html``."""
    import nh3

    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def markdown_to_html(text: str) -> str:
    """The piece's Markdown as sanitised HTML (see the module docstring)."""
    return sanitise_html(_markdown().render(text))
