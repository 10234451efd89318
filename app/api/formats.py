"""One result, several formats: JSON, CSV and plain text (the datasette pattern)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi.responses import PlainTextResponse, Response

from app.api.errors import FieldError, InvalidInput

_TEXT = {"schema": {"type": "string"}}
# OpenAPI `responses` entries for routes that also answer CSV (format=csv) or plain text.
CSV_OK: dict[int | str, dict[str, object]] = {200: {"content": {"text/csv": _TEXT}}}
CSV_OR_TEXT_OK: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/csv": _TEXT, "text/plain": _TEXT}}
}

# A cell starting with one of these is read as a formula by spreadsheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every scalar of a JSON-like value as (dotted path, value); lists are indexed."""
    if isinstance(value, Mapping):
        rows: list[tuple[str, Any]] = []
        for key, child in value.items():
            rows.extend(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return rows
    if isinstance(value, list | tuple):
        rows = []
        for i, child in enumerate(value):
            rows.extend(flatten(child, f"{prefix}.{i}"))
        return rows
    return [(prefix, value)]


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest round-tripping form, unrounded
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text  # never let a spreadsheet run a string as a formula
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buf.getvalue()


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    return Response(
        csv_text(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def field_csv(data: Mapping[str, Any], filename: str) -> Response:
    """`field,value` rows, one per scalar."""
    return csv_response(("field", "value"), flatten(data), filename)


def wide_csv(data: Mapping[str, Any], filename: str) -> Response:
    """One header row of dotted field names and one row of values: every column holds one
    type, so pandas.read_csv reads numbers as numbers (the field,value form mixes them)."""
    rows = flatten(data)
    return csv_response([name for name, _ in rows], [[value for _, value in rows]], filename)


def single_field(data: Mapping[str, Any], path: str) -> PlainTextResponse:
    """One scalar as text/plain, for a spreadsheet cell. Null is an empty body."""
    node: Any = data
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise InvalidInput(
                [
                    FieldError(
                        field="field",
                        reason=f"'{path}' is not a field of the result",
                        input=path[:200],
                    )
                ]
            )
    if isinstance(node, Mapping | list):
        raise InvalidInput(
            [
                FieldError(
                    field="field",
                    reason=f"'{path}' is a group, not a single value",
                    input=path[:200],
                )
            ]
        )
    return PlainTextResponse(cell(node))
