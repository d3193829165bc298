from __future__ import annotations

import pytest

from contentgen.errors import TemplateError
from contentgen.instructions.defaults import BUILTIN_TEMPLATES
from contentgen.instructions.templates import render_template, validate_template


def test_builtin_templates_are_valid() -> None:
    for body in BUILTIN_TEMPLATES.values():
        validate_template(body)


def test_unknown_variable_is_refused_with_its_line() -> None:
    with pytest.raises(TemplateError) as info:
        validate_template("Write about {{ topic }}.\nIn the voice of {{ celebrity }}.")
    assert info.value.line == 2
    assert "unknown variable 'celebrity'" in str(info.value)
    assert str(info.value).startswith("template: line 2:")


def test_syntax_error_is_refused_with_its_line() -> None:
    with pytest.raises(TemplateError) as info:
        validate_template("ok\n{% for k in keywords %}\n{{ k }}\n")
    assert info.value.line is not None
    assert "line" in str(info.value)


def test_sandbox_blocks_attribute_escape() -> None:
    body = "{{ topic.__class__.__mro__ }}"
    validate_template(body)  # parses: only known variables
    with pytest.raises(TemplateError):
        render_template(body, {"topic": "x"})


def test_render_collapses_blank_runs() -> None:
    assert render_template("a\n\n\n\nb {{ topic }}", {"topic": "t"}) == "a\n\nb t\n"
