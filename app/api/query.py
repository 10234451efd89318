"""Dotted query strings <-> nested scenarios, for the GET forms of the API and the page.

`?workload.queries_per_month=50000&prompted.model=gpt-4.1` becomes
`{"workload": {"queries_per_month": "50000"}, "prompted": {"model": "gpt-4.1"}}`, which the
pydantic models then validate (strings are converted; unknown names are errors).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError

from app.api.errors import FieldError, InvalidInput, errors_from_pydantic
from app.domain.scenario import FROM_TEXT

# Segments are names, or small list positions (`candidates.0.model`).
_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.([a-z_][a-z0-9_]*|[0-9]{1,2}))*$")
MAX_PARAMS = 200

M = TypeVar("M", bound=BaseModel)


def nest(items: Iterable[tuple[str, str]], reserved: Iterable[str] = ()) -> dict[str, Any]:
    """Turn dotted pairs into a nested dict. Empty values mean "not given"."""
    skip = set(reserved)
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    count = 0
    for key, value in items:
        if key in skip:
            continue
        count += 1
        if count > MAX_PARAMS:
            raise InvalidInput(
                [
                    FieldError(
                        field="query", reason=f"more than {MAX_PARAMS} parameters", type="too_many"
                    )
                ]
            )
        if not _NAME.match(key) or len(key) > 100:
            errors.append(
                FieldError(
                    field=key[:100], reason="not a field name", type="extra_forbidden", input=None
                )
            )
            continue
        if value == "":
            continue
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                errors.append(FieldError(field=key, reason=f"'{part}' is a value, not a group"))
                break
            node = child
        else:
            if isinstance(node.get(parts[-1]), dict):
                errors.append(FieldError(field=key, reason="is a group of fields, not a value"))
            else:
                node[parts[-1]] = value  # the last occurrence wins, as in an HTML form
    if errors:
        raise InvalidInput(errors)
    return out


def parse(model: type[M], items: Iterable[tuple[str, str]], reserved: Iterable[str] = ()) -> M:
    try:
        # FROM_TEXT: numbers arrive as text here, which a JSON body may not send.
        return model.model_validate(nest(items, reserved), context=FROM_TEXT)
    except ValidationError as exc:
        raise InvalidInput(errors_from_pydantic(exc.errors())) from exc


def flatten_input(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """The inverse of `nest`, for building links: nested dict -> dotted names."""
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_input(value, name + "."))
        elif value is None:
            continue
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def query_string(model: BaseModel, *, only_set: bool = True) -> str:
    """A query string that reproduces `model` (by default only the fields the user set)."""
    data = model.model_dump(mode="json", exclude_unset=only_set, exclude_none=True)
    return urlencode(flatten_input(data))
