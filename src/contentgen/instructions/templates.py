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
line. Rendering runs in jinja2's sandbox, with ``*`` and ``**`` capped so a template cannot
build huge strings or numbers.
"""

from __future__ import annotations

from functools import cache, lru_cache
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

MAX_OUTPUT = 200_000  # characters a single `*` may produce; no prompt needs more
MAX_EXPONENT = 100


@cache
def _env() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    class _Env(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                    raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
                return left**right
            for seq, times in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(times, int)
                if sized and len(seq) * times > MAX_OUTPUT:
                    raise SecurityError(f"'*' would build more than {MAX_OUTPUT} items")
            return left * right

    return _Env(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, autoescape=False)


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

    if not body.strip():
        raise TemplateError("the template is empty")
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

    try:
        text = _compiled(body).render(**variables)
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
