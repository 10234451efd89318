"""One result, several formats: JSON, CSV and plain text (the datasette pattern)."""

from __future__ import annotations

import re
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
# A list index in a `field=` path: ASCII digits only (str.isdigit() also takes "²" and "١",
# which int() then refuses or reads as another number).
_INDEX = re.compile(r"[0-9]{1,6}")


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
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text  # never let a spreadsheet run a string as a formula
    return text


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _quoted(text: str) -> str:
    # The csv module quotes only the characters of its line terminator ("\n" here), so a bare
    # CR went out unquoted, and spreadsheets start a new row at a bare CR.
    return '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text


def csv_line(values: Sequence[Any]) -> str:
    """One CSV record (RFC 4180 quoting, "\n" between records), each value through `cell`."""
    return ",".join(_quoted(cell(v)) for v in values) + "\n"


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    return csv_line(header) + "".join(csv_line(row) for row in rows)


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
        elif isinstance(node, list) and _INDEX.fullmatch(part) and int(part) < len(node):
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
