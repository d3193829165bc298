"""Front matter YAML: always exactly what yaml.safe_dump writes; the direct path is taken for
the usual values."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
import yaml

from contentgen.batch import front_matter


def reference(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def typical(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Heat Pumps in Cold Climates",
        "client": "acme-denver",
        "content_type": "blog",
        "keywords": ["heat pump", "efficiency", "cold climate"],
        "model": "openai/gpt-4o-mini",
        "cost": 0.00061215,
        "word_count": 742,
        "strategy_version": 3,
        "job_id": str(uuid.uuid4()),
    }
    return data | changes


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"keywords": []},
        {"strategy_version": None},
        {"cost": 0.0},
        {"cost": 1e-05},
        {"cost": 12345678.9},
        {"cost": 1e22},
        {"model": "meta-llama/Llama-3.1-8B-Instruct"},
        {"model": "local/smollm2"},
        {"job_id": "12345678-1234-1234-1234-123456789012"},
        {"job_id": "00000000-0000-0000-0000-000000000000"},
        {"title": "Why small offices should switch to solar panels"},
        {"client": "default"},
    ],
)
def test_typical_values_take_the_direct_path(changes: dict[str, Any]) -> None:
    data = typical(**changes)
    assert front_matter._fast(data) == reference(data)
    assert yaml.safe_load(front_matter.dump(data)) == data


# Values that must not be written plain (quoted, folded, escaped or resolved to other types).
AWKWARD = [
    "", " ", "yes", "No", "TRUE", "off", "null", "NULL", "~", "y", "n", "123", "0x1F", "1e3",
    "1.5", ".inf", ".nan", "-", "- a", "a: b", "a:b", "a #b", "a#b", "#x", "&a", "*a", "!a",
    "%a", "@a", "`a", "'a'", '"a"', "a'b", "[a]", "{a}", "a, b", "?a", "|a", ">a", "a ",
    " a", "a  b", "a\nb", "a\tb", "2024-01-02", "12:30", "1:2:3", "=", "<<", "Ünïcode",
    "emoji 😀", "control \x07", "nel \x85 x", "line\u2028sep", "x" * 79, "x" * 80,
    "word " * 20, "Heat pump maintenance: a spring checklist, step by step",
    "Composting at home: a beginner's guide", "a/b", "a.b", "a_b", "a-b", "A1 B2", "e5",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_strings_match_safe_dump(text: str) -> None:
    for data in (typical(title=text), typical(keywords=["ok", text]), typical(client=text)):
        assert front_matter.dump(data) == reference(data)
        fast = front_matter._fast(data)
        assert fast is None or fast == reference(data)


def test_random_strings_match_safe_dump() -> None:
    rng = random.Random(4)
    alphabet = "abcXYZ019 ./_-:#'\"!&*?,[]{}|>%@`~=<\tü"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        data = typical(title=text, keywords=[text] if text else [])
        assert front_matter.dump(data) == reference(data), repr(text)


def test_other_types_fall_back() -> None:
    for value in (True, float("nan"), float("inf"), {"a": 1}, [1, 2], ("a",)):
        data = typical(cost=value)
        assert front_matter._fast(data) is None
        assert front_matter.dump(data) == reference(data)
