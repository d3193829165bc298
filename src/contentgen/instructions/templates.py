"""Prompt templates: sandboxed jinja2, validated when saved.

Variables available to a template (``TEMPLATE_VARIABLES``; docs/strategies.md lists them too,
and a test keeps the two in sync):

- ``topic``, ``content_type``, ``keywords`` (request keywords), ``length``, ``client_name``
- ``target_words``, ``min_words``, ``max_words``
- ``required_sections`` (list), ``citation_required`` (bool)
- ``primary_keywords`` (list), ``keyword_density`` (float or None),
  ``meta_description_length`` (int or None)
- ``tone`` (mapping with ``formality``, ``voice``, ``engagement``; each a string or None)
- ``seo_rules`` (list of rule texts), ``preferences`` (mapping key -> value)

A template is refused when saved if it does not parse, names a variable that is not in this
list, or fails when rendered with sample values (e.g. ``tone.colour``); the error names the
line. Rendering runs in jinja2's sandbox with a size and time budget (``sandbox.py``): whatever
the construct (filters, methods, loops, ``*``, ``~``, ``join``, ``format``...), a template
cannot build a string over 200,000 characters or render for more than 2 seconds.
"""

from __future__ import annotations

from functools import lru_cache
from types import TracebackType
from typing import TYPE_CHECKING, Any

from contentgen.errors import TemplateError

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment

TEMPLATE_VARIABLES: frozenset[str] = frozenset(
    {
        "topic", "content_type", "keywords", "length", "client_name",
        "target_words", "min_words", "max_words",
        "required_sections", "citation_required",
        "primary_keywords", "keyword_density", "meta_description_length",
        "tone", "seo_rules", "preferences",
    }
)  # fmt: skip

#: Values a template is test-rendered with when it is saved.
SAMPLE_VARIABLES: dict[str, Any] = {
    "topic": "Solar panels for small offices",
    "content_type": "blog",
    "keywords": ["solar panels", "energy bills"],
    "length": "medium",
    "client_name": "acme",
    "target_words": 800,
    "min_words": 640,
    "max_words": 960,
    "required_sections": ["Introduction", "Conclusion"],
    "citation_required": True,
    "primary_keywords": ["solar installer"],
    "keyword_density": 1.5,
    "meta_description_length": 155,
    "tone": {"formality": "professional", "voice": "friendly", "engagement": "informative"},
    "seo_rules": ["Keep titles under 60 characters"],
    "preferences": {"avoid": "jargon"},
}

def _env() -> SandboxedEnvironment:
    from contentgen.instructions.sandbox import environment

    return environment()


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line of a render error (jinja2 rewrites tracebacks to template lines)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def validate_template(body: str) -> None:
    """Raise ``TemplateError`` (with the line) if ``body`` does not parse, uses an unknown
    variable or fails when rendered with sample values."""
    from jinja2 import TemplateSyntaxError, meta, nodes

    from contentgen.models import TEMPLATE_MAX

    if not body.strip():
        raise TemplateError("the template is empty")
    if len(body) > TEMPLATE_MAX:
        raise TemplateError(f"the template has {len(body):,} characters; at most "
                            f"{TEMPLATE_MAX:,} are allowed")  # fmt: skip
    try:
        ast = _env().parse(body)
    except TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", line=exc.lineno) from exc
    unknown = sorted(meta.find_undeclared_variables(ast) - TEMPLATE_VARIABLES)
    if unknown:
        name = unknown[0]
        line = next(
            (n.lineno for n in ast.find_all(nodes.Name) if n.name == name and n.ctx == "load"),
            None,
        )
        allowed = ", ".join(sorted(TEMPLATE_VARIABLES))
        raise TemplateError(f"unknown variable {name!r}; available: {allowed}", line=line)
    render_template(body, SAMPLE_VARIABLES)


@lru_cache(maxsize=512)
def _compiled(body: str) -> Template:
    return _env().from_string(body)


def render_template(body: str, variables: dict[str, Any]) -> str:
    """Render a (validated) template; collapses runs of blank lines.

    Any failure while rendering becomes a ``TemplateError`` naming the template line.
    """
    from jinja2 import TemplateSyntaxError

    from contentgen.instructions.sandbox import render_bounded

    try:
        text = render_bounded(_compiled(body), variables)
    except TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", line=exc.lineno) from exc
    except Exception as exc:  # a user's template can fail in any way; report it, with the line
        reason = str(exc) or type(exc).__name__
        raise TemplateError(reason.splitlines()[0], line=_template_line(exc.__traceback__)) from exc
    out: list[str] = []
    for line in (line.rstrip() for line in text.splitlines()):
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"
