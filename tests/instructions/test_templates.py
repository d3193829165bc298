from __future__ import annotations

import pytest

from contentgen.errors import TemplateError
from contentgen.instructions.defaults import BUILTIN_TEMPLATES
from contentgen.instructions.templates import (
    SAMPLE_VARIABLES,
    TEMPLATE_VARIABLES,
    render_template,
    validate_template,
)


def test_builtin_templates_are_valid() -> None:
    for body in BUILTIN_TEMPLATES.values():
        validate_template(body)


def test_sample_variables_cover_every_documented_variable() -> None:
    assert set(SAMPLE_VARIABLES) == TEMPLATE_VARIABLES


def test_unknown_variable_is_refused_with_its_line() -> None:
    with pytest.raises(TemplateError) as info:
        validate_template("Write about {{ topic }}.\nIn the voice of {{ celebrity }}.")
    assert info.value.line == 2
    assert "unknown variable 'celebrity'" in str(info.value)
    assert str(info.value).startswith("template: line 2:")


def test_the_line_is_where_the_variable_is_used_not_where_its_name_appears() -> None:
    # "top" is a substring of "topic" on line 1; the unknown variable is on line 3
    with pytest.raises(TemplateError) as info:
        validate_template("About {{ topic }}\nplain text\n{{ top }}")
    assert info.value.line == 3


def test_syntax_error_is_refused_with_its_line() -> None:
    with pytest.raises(TemplateError) as info:
        validate_template("ok\n{% for k in keywords %}\n{{ k }}\n")
    assert info.value.line is not None
    assert str(info.value).startswith(f"template: line {info.value.line}:")
    with pytest.raises(TemplateError) as info:
        validate_template("line one\nline two {{ topic }\n")
    assert info.value.line == 2


def test_unknown_attribute_of_a_known_variable_is_refused_with_its_line() -> None:
    with pytest.raises(TemplateError) as info:
        validate_template("About {{ topic }}\nTone: {{ tone.colour }}")
    assert info.value.line == 2
    assert "colour" in str(info.value)
    assert "\n" not in str(info.value)


def test_empty_template_is_refused() -> None:
    with pytest.raises(TemplateError, match="empty"):
        validate_template("  \n")


def test_sandbox_blocks_attribute_escape_when_saved_and_when_rendered() -> None:
    body = "{{ topic.__class__.__mro__ }}"
    with pytest.raises(TemplateError, match="unsafe"):
        validate_template(body)
    with pytest.raises(TemplateError, match="unsafe"):
        render_template(body, {"topic": "x"})


@pytest.mark.parametrize("body", ['{{ "x" * 10000000 }}', "{{ topic * 100000000 }}",
                                  "{{ 10 ** 100000 }}"])  # fmt: skip
def test_huge_repetition_and_powers_are_refused(body: str) -> None:
    with pytest.raises(TemplateError) as info:
        validate_template(body)
    assert info.value.line == 1


def test_small_arithmetic_still_works() -> None:
    body = "{{ '-' * 3 }} {{ 2 ** 3 }} {{ min_words * 2 }}"
    validate_template(body)
    assert render_template(body, {"min_words": 5}) == "--- 8 10\n"


def test_a_runtime_error_names_the_line() -> None:
    with pytest.raises(TemplateError) as info:
        render_template("a\nb\n{{ min_words + 'x' }}", {"min_words": 1})
    assert info.value.line == 3


def test_render_collapses_blank_runs() -> None:
    assert render_template("a\n\n\n\nb {{ topic }}", {"topic": "t"}) == "a\n\nb t\n"
