"""Read a batch CSV: the header names request fields; each row becomes a request or a
rejection (row number, column, reason). Streams: the file is never held in memory.

Row numbers are spreadsheet rows: the header is row 1, the first request row 2.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from contentgen.errors import InvalidInput
from contentgen.models import ContentRequest

#: CSV column -> ContentRequest field.
COLUMNS: dict[str, str] = {
    "topic": "topic",
    "content_type": "content_type",
    "type": "content_type",
    "client": "client",
    "keywords": "keywords",
    "length": "length",
    "priority": "priority",
    "model": "model",
    "provider": "llm_provider",
    "llm_provider": "llm_provider",
}
REQUIRED = ("topic", "content_type")
_KEYWORD_SEPARATORS = (";", "|")


@dataclass(frozen=True)
class Row:
    """A row whose fields passed validation (the client is still a name or UUID).

    ``request`` is the validated request with a placeholder ``client_id``: the caller
    substitutes the resolved client's id (``model_copy``) instead of validating again."""

    number: int
    client: str | None
    fields: dict[str, Any]
    raw: dict[str, str]
    request: ContentRequest


@dataclass(frozen=True)
class Rejection:
    number: int
    column: str
    reason: str
    raw: dict[str, str]

    def line(self) -> str:
        return f"row {self.number}, column {self.column}: {self.reason}"


def check_header(header: list[str] | None, path: Path) -> dict[str, str]:
    """Map header names to fields; unknown or missing required columns stop the run."""
    if not header:
        raise InvalidInput(f"{path}: the file is empty; the first row must name the columns")
    mapping: dict[str, str] = {}
    for name in header:
        key = name.strip().lower()
        if key not in COLUMNS:
            allowed = ", ".join(sorted(set(COLUMNS) - {"type", "llm_provider"}))
            raise InvalidInput(
                f"column {name!r}: unknown column in {path.name} (allowed: {allowed})",
                field=name,
            )
        mapping[name] = COLUMNS[key]
    present = set(mapping.values())
    for required in REQUIRED:
        if required not in present:
            raise InvalidInput(
                f"column {required!r}: required column missing in {path.name}", field=required
            )
    return mapping


def split_keywords(cell: str) -> list[str]:
    for sep in _KEYWORD_SEPARATORS[1:]:
        cell = cell.replace(sep, _KEYWORD_SEPARATORS[0])
    return [k.strip() for k in cell.split(_KEYWORD_SEPARATORS[0]) if k.strip()]


_COLUMN_OF_FIELD = {"llm_provider": "provider"}
_PLACEHOLDER = uuid.UUID(int=0)


def parse_row(number: int, raw: dict[str, str], mapping: dict[str, str]) -> Row | Rejection:
    fields: dict[str, Any] = {}
    client: str | None = None
    for column, field in mapping.items():
        cell = (raw.get(column) or "").strip()
        if not cell:
            continue
        if field == "client":
            client = cell
        elif field == "keywords":
            fields["keywords"] = split_keywords(cell)
        else:
            fields[field] = cell
    try:
        request = ContentRequest(client_id=_PLACEHOLDER, **fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "row"
        column = next((c for c, f in mapping.items() if f == field), field)
        reason = str(first["msg"]).removeprefix("Value error, ")
        return Rejection(number, _COLUMN_OF_FIELD.get(column, column), reason, raw)
    return Row(number, client, fields, raw, request)


def text_lines(path: Path) -> Iterator[str]:
    """The lines of a UTF-8 file (a BOM is dropped), line endings kept as csv wants them.

    Decoding is per line, so a file that is not UTF-8 is refused with the line named (one
    ``InvalidInput``), wherever the bad byte is, without reading the file twice."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InvalidInput(f"file: cannot read {path}: {exc.strerror}", field="file") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"file: {path} is not UTF-8 text (line {number}, byte {exc.start + 1}); "
                    "save it as UTF-8 (in a spreadsheet: CSV UTF-8)",
                    field="file",
                ) from exc


def csv_columns(path: Path) -> list[str]:
    """The header row of a CSV file (empty for an empty file)."""
    return next(csv.reader(text_lines(path)), [])


def read_rows(path: Path) -> Iterator[Row | Rejection]:
    """Yield every data row of the CSV as a ``Row`` or a ``Rejection``."""
    reader = csv.DictReader(text_lines(path))
    mapping = check_header(list(reader.fieldnames or []), path)
    for number, raw in enumerate(reader, start=2):
        if None in raw:  # more cells than header columns
            yield Rejection(number, "row", "more cells than columns in the header", {})
            continue
        if not any((v or "").strip() for v in raw.values()):
            continue  # blank line
        yield parse_row(number, {k: v or "" for k, v in raw.items()}, mapping)
