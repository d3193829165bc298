"""The jinja2 sandbox prompt templates render in, with a size and a time budget.

jinja2's ``SandboxedEnvironment`` keeps templates away from Python internals but lets them
build strings of any size (``"x"|center(10**9)``, ``"%999999999s"|format(1)``, ``join`` of
a long list, doubling a string in a loop, nested loops). Here every construct that can grow a
string or spin is bounded, at the place where the work happens, before memory is spent:

- every call (filters, methods such as ``ljust``/``replace``/``join``/``format``, globals,
  macros) checks its numbers and the size of what it would build, and its result;
- ``*``, ``**``, ``+`` and ``%`` are intercepted, and so is ``~`` (string concatenation) and
  every captured block (``{% set %}``, macros, ``{% filter %}``);
- every ``for`` loop's iterable is wrapped so each step checks the clock;
- the output is streamed and counted.

A render that would exceed ``MAX_OUTPUT`` characters, or take longer than ``MAX_SECONDS``, stops
with a ``SecurityError`` (reported as a ``TemplateError`` naming the line).
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, wraps
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT = 200_000  # characters a template (or any string it builds) may have
MAX_ITEMS = 200_000  # items a list it builds may have
MAX_SECONDS = 2.0  # wall time of one render
MAX_ALLOCATED = 50 * MAX_OUTPUT  # characters all the strings built in one render may add up to
MAX_EXPONENT = 100
MAX_INT_BITS = 4096  # integers a template computes stay below 2**4096

_PRINTF_NUMBERS = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d*)(?:\.(\d*))?")
_FORMAT_FIELD = re.compile(r"\{[^{}]*\}")
_PADDING = {"center", "ljust", "rjust", "zfill"}


@dataclass
class Budget:
    """What one render may still spend: time, and characters built along the way (a loop of
    calls each within the limit must not add up to gigabytes, e.g. ``map("center", N)|list``)."""

    deadline: float
    allocated: int = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise SecurityError(f"the template took longer than {MAX_SECONDS:g} s to render")

    def spend(self, size: int) -> None:
        self.allocated += size
        if self.allocated > MAX_ALLOCATED:
            raise SecurityError(
                f"the template builds more than {MAX_ALLOCATED:,} characters of text in total"
            )


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("budget", default=None)


def _tick() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.tick()


def _too_big(what: str, size: int, limit: int = MAX_OUTPUT) -> SecurityError:
    return SecurityError(f"{what} would build {size:,} characters or items (limit {limit:,})")


def _spend(size: int) -> None:
    budget = _budget.get()
    if budget is not None:
        budget.spend(size)


def _check_size(value: Any, what: str) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_OUTPUT:
            raise _too_big(what, len(value))
        _spend(len(value))
    if isinstance(value, list | tuple | dict | set):
        if len(value) > MAX_ITEMS:
            raise _too_big(what, len(value), MAX_ITEMS)
        _spend(len(value))
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise SecurityError(f"{what} would build a number with more than {MAX_INT_BITS} bits")
    return value


def _check_number(value: Any, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
        raise SecurityError(f"{what}: the number {value} is larger than {MAX_OUTPUT:,}")


def _check_format(fmt: str, what: str, printf: bool) -> None:
    """Refuse widths and precisions in a format string that would pad past the limit."""
    if printf:
        numbers = [n for m in _PRINTF_NUMBERS.finditer(fmt) for n in m.groups() if n]
    else:
        specs = [f.group().partition(":")[2] for f in _FORMAT_FIELD.finditer(fmt)]
        numbers = [n for spec in specs for n in re.findall(r"\d+", spec)]
    for number in numbers:
        if len(number) > 6 or int(number) > MAX_OUTPUT:
            raise SecurityError(f"{what}: the width {number} is larger than {MAX_OUTPUT:,}")


def _text_len(value: Any) -> int:
    """The length of ``str(value)``, estimated without building it for containers."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple | set):
        return 2 + sum(_text_len(v) + 4 for v in value)
    if isinstance(value, dict):
        return 2 + sum(_text_len(k) + _text_len(v) + 6 for k, v in value.items())
    return len(str(value))


def _finalize(value: Any) -> Any:
    """Every ``{{ expression }}``, before it is turned into text."""
    if isinstance(value, list | tuple | set | dict) and _text_len(value) > MAX_OUTPUT:
        raise _too_big("printing a value", _text_len(value))
    return value


def _check_fill(fmt: str, values: Iterable[Any], what: str) -> None:
    """Refuse a format string whose fields, filled with ``values``, would be too big."""
    values = list(values)
    fields = fmt.count("%") if what != "format_map" and "%" in fmt else fmt.count("{")
    longest = max((_text_len(v) for v in values), default=0)
    if len(fmt) + fields * longest > MAX_OUTPUT:
        raise _too_big(what, len(fmt) + fields * longest)


def _precheck(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse calls whose result would be too big, before they run (filters and methods)."""
    for arg in (*args, *kwargs.values()):
        _check_number(arg, name)
    if not isinstance(value, str):
        return
    if name == "replace" and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        count = args[2] if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0 else None
        hits = len(value) + 1 if old == "" else value.count(old)
        hits = min(hits, count) if count is not None else hits
        size = len(value) + hits * max(len(new) - len(old), 0)
        if size > MAX_OUTPUT:
            raise _too_big("replace", size)
    elif name == "expandtabs":
        size = len(value) + value.count("\t") * int(args[0] if args else 8)
        if size > MAX_OUTPUT:
            raise _too_big("expandtabs", size)
    elif name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        pad = len(width) if isinstance(width, str) else int(width)
        size = len(value) + (value.count("\n") + 1) * pad
        if size > MAX_OUTPUT:
            raise _too_big("indent", size)
    elif name == "wordwrap":
        width = int(args[0] if args else kwargs.get("width", 79))
        wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring") or "\n"
        size = len(value) + (len(value) // max(width, 1) + 1) * len(str(wrap))
        if size > MAX_OUTPUT:
            raise _too_big("wordwrap", size)
    elif name == "format":
        _check_format(value, "format", printf=True)
        _check_fill(value, (*args, *kwargs.values()), "format")


def _join_size(sep: Any, items: list[Any]) -> int:
    return sum(_text_len(i) for i in items) + _text_len(sep) * max(len(items) - 1, 0)


def _checked_filter(name: str, func: Any) -> Any:
    pass_arg = getattr(func, "jinja_pass_arg", None)

    @wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _tick()
        offset = 1 if pass_arg is not None else 0
        if name == "join" and len(args) > offset:
            items = list(args[offset])
            sep = args[offset + 1] if len(args) > offset + 1 else kwargs.get("d", "")
            if _join_size(sep, items) > MAX_OUTPUT:
                raise _too_big("join", _join_size(sep, items))
            args = (*args[:offset], items, *args[offset + 1 :])
        elif len(args) > offset:
            _precheck(name, args[offset], args[offset + 1 :], kwargs)
        return _check_size(func(*args, **kwargs), name)

    return checked


class _GuardingCodeGenerator(CodeGenerator):
    """Routes ``~`` and every ``for`` loop's iterable through the environment's checks."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not node.recursive:
            guard = nodes.EnvironmentAttribute("guard_iter", lineno=node.lineno)
            node.iter = nodes.Call(guard, [node.iter], [], None, None, lineno=node.lineno)
        super().visit_For(node, frame)


class BudgetedEnvironment(SandboxedEnvironment):
    """A ``SandboxedEnvironment`` whose every string-building construct is bounded."""

    code_generator_class = _GuardingCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _checked_filter(name, f) for name, f in self.filters.items()}
        self.globals.pop("lipsum", None)  # builds text by the paragraph; no prompt needs it

    # -- hooks the generated code calls -----------------------------------------------------

    @staticmethod
    def concat(parts: Iterable[Any]) -> str:
        """Captured output (``{% set %}`` blocks, macros, ``{% filter %}``), counted."""
        out: list[str] = []
        size = 0
        for part in parts:
            _tick()
            size += len(part)
            if size > MAX_OUTPUT:
                raise _too_big("a block", size)
            out.append(part)
        _spend(size)
        return "".join(out)

    @staticmethod
    def checked_join(parts: tuple[Any, ...]) -> str:
        """The ``~`` operator."""
        _tick()
        size = sum(_text_len(p) for p in parts)
        if size > MAX_OUTPUT:
            raise _too_big("'~'", size)
        _spend(size)
        return "".join(str(p) for p in parts)

    @staticmethod
    def guard_iter(iterable: Any) -> Iterator[Any]:
        """A loop's iterable, checking the clock at every step."""
        for item in iterable:
            _tick()
            yield item

    # -- sandbox interception ---------------------------------------------------------------

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        if __obj is __self.guard_iter:
            return __self.guard_iter(*args)
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            if name in _PADDING:
                _check_number(args[0] if args else 0, name)
            elif name == "join" and args:
                items = list(args[0])
                if _join_size(owner, items) > MAX_OUTPUT:
                    raise _too_big("join", _join_size(owner, items))
                args = (items, *args[1:])
            else:
                _precheck(name, owner, args, kwargs)
        else:
            for arg in (*args, *kwargs.values()):
                _check_number(arg, name or "a call")
        return _check_size(super().call(__context, __obj, *args, **kwargs), name or "a call")

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        value = super().getattr(obj, attribute)
        if not (isinstance(obj, str) and attribute in ("format", "format_map")):
            return value
        _check_format(obj, attribute, printf=False)

        def checked_format(*args: Any, **kwargs: Any) -> Any:
            mapping = args[0] if attribute == "format_map" and args else {}
            filling = [*args, *kwargs.values(), *getattr(mapping, "values", list)()]
            _check_fill(obj, filling, attribute)
            return value(*args, **kwargs)

        checked_format.__name__ = attribute
        return checked_format

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        _check_binop(operator, left, right)
        return _check_size(super().call_binop(context, operator, left, right), operator)


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``*``, ``**``, ``+`` and ``%`` whose result would be too big, before computing it."""
    if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
        raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            size = _text_len(seq) * times if _sized(seq) and isinstance(times, int) else 0
            if size > MAX_OUTPUT:
                raise _too_big("'*'", size)
        ints = isinstance(left, int) and isinstance(right, int)
        if ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise SecurityError(f"'*' would build a number over {MAX_INT_BITS} bits")
    size = len(left) + len(right) if _sized(left) and _sized(right) else 0
    if operator == "+" and size > MAX_OUTPUT:
        raise _too_big("'+'", size)
    if operator == "%" and isinstance(left, str):
        _check_format(left, "'%'", printf=True)
        values = right if isinstance(right, tuple) else (right,)
        for value in values:
            _check_number(value, "'%'")
        _check_fill(left, right.values() if isinstance(right, dict) else values, "'%'")


def _sized(value: Any) -> bool:
    return isinstance(value, str | list | tuple)


@cache
def environment() -> BudgetedEnvironment:
    return BudgetedEnvironment(
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        finalize=_finalize,
    )


def render_bounded(template: Any, variables: dict[str, Any]) -> str:
    """Render a compiled template within the size and time budget (streamed, counted)."""
    token = _budget.set(Budget(deadline=time.monotonic() + MAX_SECONDS))
    try:
        parts: list[str] = []
        size = 0
        for chunk in template.generate(**variables):
            _tick()
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise _too_big("the template", size)
            parts.append(chunk)
        return "".join(parts)
    finally:
        _budget.reset(token)
