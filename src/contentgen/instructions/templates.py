"""Prompt templates: sandboxed jinja2, validated when saved.

Variables available to a template (``TEMPLATE_VARIABLES``):

- ``topic``, ``content_type``, ``keywords`` (request keywords), ``length``, ``client_name``
- ``target_words``, ``min_words``, ``max_words``
- ``required_sections`` (list), ``citation_required`` (bool)
- ``primary_keywords`` (list), ``keyword_density`` (float or None),
  ``meta_description_length`` (int or None)
- ``tone`` (with ``formality``, ``voice``, ``engagement``)
- ``seo_rules`` (list of rule texts), ``preferences`` (mapping key -> value)
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from contentgen.errors import TemplateError

if TYPE_CHECKING:
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


@cache
def _env() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, autoescape=False
    )


def _line_of(body: str, name: str) -> int | None:
    for number, line in enumerate(body.splitlines(), start=1):
        if name in line:
            return number
    return None


def validate_template(body: str) -> None:
    """Raise ``TemplateError`` (with the line) if ``body`` does not parse or uses an unknown
    variable."""
    from jinja2 import TemplateSyntaxError, meta

    if not body.strip():
        raise TemplateError("the template is empty")
    try:
        ast = _env().parse(body)
    except TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", line=exc.lineno) from exc
    unknown = sorted(meta.find_undeclared_variables(ast) - TEMPLATE_VARIABLES)
    if unknown:
        name = unknown[0]
        allowed = ", ".join(sorted(TEMPLATE_VARIABLES))
        raise TemplateError(
            f"unknown variable {name!r}; available: {allowed}", line=_line_of(body, name)
        )


@cache
def _compiled(body: str) -> Any:
    return _env().from_string(body)


def render_template(body: str, variables: dict[str, Any]) -> str:
    """Render a (validated) template; collapses runs of blank lines."""
    from jinja2 import TemplateError as JinjaError

    try:
        text: str = _compiled(body).render(**variables)
    except JinjaError as exc:
        raise TemplateError(str(exc)) from exc
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"
