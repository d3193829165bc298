"""Issue 7, point 11: the rendered size and the render time of every template are bounded,
whatever the construct — each of these built a huge string (or ran for minutes) in a plain
sandbox. Memory is measured too: the refusal must come before the memory is spent."""

from __future__ import annotations

import tracemalloc

import pytest

from contentgen.errors import TemplateError
from contentgen.instructions import sandbox
from contentgen.instructions.templates import SAMPLE_VARIABLES, render_template

BIG = "1000000000"
HUGE_TEMPLATES = {
    "star": '{{ "x" * 10**9 }}',
    "center filter": f'{{{{ "x"|center({BIG}) }}}}',
    "ljust method": f'{{{{ "x".ljust({BIG}) }}}}',
    "zfill method": f'{{{{ "1".zfill({BIG}) }}}}',
    "format filter width": f'{{{{ "%{BIG}s"|format("x") }}}}',
    "format filter fill": '{{ ("%s" * 60000)|format("y" * 60000) }}',
    "percent operator width": f'{{{{ "%{BIG}s" % "x" }}}}',
    "percent operator fill": '{{ ("%s" * 60000) % (("y" * 60000,) * 60000) }}',
    "str.format width": f'{{{{ "{{:>{BIG}}}".format("x") }}}}',
    "str.format nested width": f'{{{{ "{{0:{{1}}}}".format("x", {BIG}) }}}}',
    "str.format fill": '{{ ("{0}" * 60000).format("y" * 60000) }}',
    "replace filter": '{{ ("x" * 100000)|replace("x", "y" * 100000) }}',
    "replace method": '{{ ("x" * 100000).replace("", "yy" * 50000) }}',
    "join filter": '{{ range(100000)|join("y" * 100000) }}',
    "join method": '{{ ("y" * 100000).join(range(100000)|map("string")) }}',
    "indent": '{{ ("x\\n" * 100000)|indent(100000) }}',
    "wordwrap": '{{ ("a " * 50000)|wordwrap(1, wrapstring="y" * 100000) }}',
    "expandtabs": '{{ ("\\t" * 100000).expandtabs(100000) }}',
    "tilde doubling": '{% set ns = namespace(s="xx") %}{% for i in range(64) %}'
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "plus doubling": '{% set ns = namespace(s="xx") %}{% for i in range(64) %}'
    "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
    "list doubling": "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}"
    "{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}",
    "int squaring": "{% set ns = namespace(n=10) %}{% for i in range(64) %}"
    "{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n > 0 }}",
    "macro doubling": "{% macro d(n) %}{% if n %}{{ d(n - 1) }}{{ d(n - 1) }}{% else %}"
    "xxxxxxxx{% endif %}{% endmacro %}{{ d(40) }}",
    "set block": '{% set s %}{% for i in range(1000) %}{{ "x" * 1000 }}{% endfor %}'
    "{% endset %}{{ s|length }}",
    "filter block": '{% filter upper %}{% for i in range(1000) %}{{ "x" * 1000 }}'
    "{% endfor %}{% endfilter %}",
    "streamed output": '{% for i in range(100000) %}{{ "x" * 1000 }}{% endfor %}',
    "list repeated then printed": '{{ ["x" * 200000] * 200000 }}',
    "printing a big list": '{% set s = "x" * 200000 %}{{ [s, s, s, s] }}',
    "map center list": '{{ range(100000)|map("center", 200000)|list|length }}',
    "string of a long list": "{{ range(100000)|list|string }}",
}


@pytest.mark.parametrize("body", list(HUGE_TEMPLATES.values()), ids=list(HUGE_TEMPLATES))
def test_huge_output_is_refused_before_the_memory_is_spent(body: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError) as caught:
            render_template(body, SAMPLE_VARIABLES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.message.startswith("template: ")
    assert peak < 60_000_000, f"{peak:,} bytes allocated before refusing"


@pytest.mark.parametrize(
    "body",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{% for j in 'x' * 100000 %}{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(60) }}",
    ],
    ids=["nested loops", "loop over a string", "macro recursion"],
)
def test_render_time_is_bounded(body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.2)
    with pytest.raises(TemplateError, match=r"took longer than 0\.2 s"):
        render_template(body, SAMPLE_VARIABLES)


@pytest.mark.parametrize(
    "body",
    [
        '{{ "x" * 1000 }} {{ "-"|center(80) }} {{ "{:>10}".format(topic) }}',
        '{{ "%-20s|" % topic }} {{ keywords|join(", ") }} {{ topic|replace("o", "0") }}',
        "{% for s in required_sections %}## {{ s|upper }}\n{% endfor %}{{ topic ~ '!' }}",
        "{% set ns = namespace(n=0) %}{% for i in range(1000) %}{% set ns.n = ns.n + i %}"
        "{% endfor %}{{ ns.n }} {{ 2 ** 10 }} {{ (topic ~ ' ') * 3 }}",
        "{{ ('x' * 199000) ~ topic }}",
    ],
)
def test_ordinary_templates_render(body: str) -> None:
    assert render_template(body, SAMPLE_VARIABLES).strip()


def test_a_saved_template_is_refused_when_its_sample_render_is_huge() -> None:
    from contentgen.instructions.templates import validate_template

    with pytest.raises(TemplateError, match="line 2"):
        validate_template('Write about {{ topic }}.\n{{ topic|center(1000000000) }}\n')
