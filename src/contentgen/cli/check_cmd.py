"""`contentgen check FILE.md --client X`: audit a piece against a client's strategy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contentgen.cli.common import out, print_json, run
from contentgen.cli.options import (
    AsJson,
    ClientOpt,
    ContentTypeOpt,
    Keywords,
    LengthOpt,
    input_path,
    read_input,
)

if TYPE_CHECKING:
    from contentgen.client.local import Client
    from contentgen.quality.report import ComplianceReport


MEASURED_WIDTH = 16


def render(report: ComplianceReport, label: str) -> list[str]:
    """The report as plain lines (user and model text is never read as markup)."""
    verdict = "passed" if report.passed else "FAILED"
    total = len(report.checks)
    ok = total - len(report.failed)
    lines = [f"{label}: {verdict} (score {report.score:.2f}, {ok}/{total} checks passed)"]
    width = max(len(c.name) for c in report.checks) if report.checks else 0
    for check in report.checks:
        mark = "ok  " if check.passed else "FAIL"
        measured = "-" if check.measured is None else str(check.measured)
        if len(measured) > MEASURED_WIDTH:
            measured = measured[: MEASURED_WIDTH - 1] + "…"
        line = f"  {mark}  {check.name:<{width}}  {measured:<{MEASURED_WIDTH}}"
        line += f"  target {check.target or '-'}"
        if check.message:
            line += f"  ({check.message})"
        lines.append(line)
    return lines


def check(
    file: Annotated[Path, input_path("A Markdown piece (front matter allowed).")],
    client: ClientOpt = None,
    content_type: ContentTypeOpt = "blog",
    length: LengthOpt = "medium",
    keyword: Keywords = None,
    as_json: AsJson = False,
) -> None:
    """Check a piece against a client's strategy: exit 0 when every check passes, 1 if not."""
    from contentgen.models import ContentType, Length

    ctype, size = ContentType(content_type), Length(length)
    text = read_input(file, "file")
    keywords = [k.strip() for item in keyword or [] for k in item.split(",") if k.strip()]

    async def work(cg: Client) -> Any:
        from contentgen.errors import InvalidInput
        from contentgen.quality.audit import audit, topic_of

        setup = await cg.effective_setup(client)
        try:
            built = await cg.prompt(client, topic=topic_of(text), content_type=ctype.value,
                                    length=size.value, keywords=keywords)  # fmt: skip
            prompt = built.prompt
        except InvalidInput:
            prompt = ""
        return setup.client.name, audit(text, setup, ctype, length=size, keywords=keywords,
                                        prompt=prompt)  # fmt: skip

    name, report = run(work)
    if as_json:
        print_json({"file": str(file), "client": name, "content_type": ctype.value}
                   | report.model_dump(mode="json"))  # fmt: skip
    else:
        label = f"{file} ({ctype.value}, client {name})"
        for line in render(report, label):
            out.print(line, markup=False, highlight=False)
    if not report.passed:
        raise typer.Exit(1)
