"""The compliance report: how a piece measures against its client's strategy, check by check.

Stored in ``ResultMetadata.compliance``, summarised in ``seo_notes``, printed by ``contentgen
status`` and ``contentgen check``, and served by ``GET /status``. Kept free of heavy imports:
``contentgen.models`` imports it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Measured = float | int | str | bool | None


class Check(BaseModel):
    """One measure of the piece against one target."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str  # e.g. "word_count", "keyword:solar panels"
    passed: bool
    measured: Measured = None
    target: str | None = None
    message: str = ""


class ComplianceReport(BaseModel):
    """Every check, the share that passed (``score``) and whether all did (``passed``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    checks: list[Check] = Field(default_factory=list)
    score: float = 1.0
    passed: bool = True
    #: Repair rounds that ran before this version was kept (0: the first draft).
    repair_rounds: int = 0
    mode: str | None = None  # "single" | "sections" when a writer made the piece

    @classmethod
    def of(
        cls, checks: list[Check], *, repair_rounds: int = 0, mode: str | None = None
    ) -> ComplianceReport:
        """The report of these checks; ``score`` is the share that passed."""
        passed = sum(1 for c in checks if c.passed)
        score = round(passed / len(checks), 3) if checks else 1.0
        return cls(
            checks=checks, score=score, passed=passed == len(checks),
            repair_rounds=repair_rounds, mode=mode,
        )  # fmt: skip

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def summary(self) -> str:
        """One line for ``seo_notes``: the score, then each failed check's message."""
        total = len(self.checks)
        ok = total - len(self.failed)
        head = f"compliance {self.score:.2f} ({ok}/{total} checks passed)"
        if self.repair_rounds:
            plural = "s" if self.repair_rounds > 1 else ""
            head += f" after {self.repair_rounds} repair round{plural}"
        if not self.failed:
            return head
        return head + ": " + "; ".join(c.message or c.name for c in self.failed)
