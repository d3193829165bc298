"""Quality: measure a piece against its client's strategy, and repair what misses.

- ``report``: the ``ComplianceReport`` stored in ``ResultMetadata.compliance`` (light: pydantic
  only, imported by ``contentgen.models``).
- ``markdown``: the structure of a Markdown piece (markdown-it-py tokens, front matter).
- ``spec``: what a piece must meet (``QualitySpec``), from the writing plan and the setup.
- ``measures`` / ``analyse``: the checks, and ``analyse(text, spec) -> ComplianceReport``.
- ``tidy``: the Markdown-aware clean-up of small-model output (small-model path only).
- ``draft``: a piece as title + sections, for writing and repairing part by part.
- ``repair``: failed checks -> targeted instructions for the parts that failed.

Everything but ``report`` is imported where it is used (markdown-it and the syllable
dictionary are not free).
"""

from contentgen.quality.report import Check, ComplianceReport

__all__ = ["Check", "ComplianceReport"]
