"""One JSON error shape for every error the API returns (docs/api.md, pinned by tests).

{"status": 422, "title": "Invalid scenario",
 "errors": [{"field": "workload.monthly_growth", "reason": "...", "type": "...",
             "input": 1.4, "suggestions": []}]}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain.engine import FieldIssue, ScenarioError
from app.domain.scenario import Refused

# Where FastAPI says the bad value was; our field paths start inside it.
_LOCATIONS = {"body", "query", "path", "header"}


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the input, e.g. workload.queries_per_month")
    reason: str
    type: str = "invalid"
    input: Any = None
    suggestions: list[str] = Field(default_factory=list)


MAX_ERRORS = 50  # errors listed in one answer; the rest are counted in errors_omitted


class ErrorBody(BaseModel):
    status: int
    title: str
    errors: list[FieldError] = Field(default_factory=list)
    errors_omitted: int | None = Field(
        default=None,
        description=f"Errors left out of the list, which holds at most {MAX_ERRORS}; "
        "absent when none were",
    )


def clean_text(text: str) -> str:
    """Text that can be encoded as UTF-8: a lone surrogate (valid in a JSON string escape,
    not in Unicode text) becomes U+FFFD."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean(v) for k, v in value.items()}
    return value


_UNION_TAGS = ("prompted", "finetuned", "hybrid")  # CandidatesScenario.candidates


def field_path(loc: Sequence[int | str]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    # pydantic puts the failing member of a union (e.g. 'float', 'literal[...]') in the path.
    parts = [
        p
        for p in parts
        if not (
            isinstance(p, str)
            and ("[" in p or p in ("float", "int") or p.startswith(("constrained-", "function-")))
        )
    ]
    # ... and the tag of a discriminated union right after a list position
    # (`candidates.0.prompted.model` is the field `candidates.0.model`).
    parts = [
        p
        for i, p in enumerate(parts)
        if not (i > 0 and isinstance(parts[i - 1], int) and p in _UNION_TAGS)
    ]
    return ".".join(str(p) for p in parts) or "body"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Refused):  # refused before validation (app.domain.scenario)
        value = value.value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return clean_text(value[:200])
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    # A group of fields (a dict) is not echoed: its repr would be Python, not the input.
    return None if isinstance(value, dict | list) else clean_text(str(value)[:200])


def errors_from_pydantic(errors: Iterable[Any]) -> list[FieldError]:
    out: list[FieldError] = []
    for err in errors:
        reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            reason = "unknown field"
        field = field_path(err.get("loc", ()))
        if out and out[-1].field == field:
            # The members of a union (epochs: a number or 'auto') fail one after the other:
            # one error for the field, with each member's reason.
            out[-1].reason += f"; or {reason[0].lower()}{reason[1:]}"
            continue
        out.append(
            FieldError(
                field=field,
                reason=reason,
                type=str(err.get("type", "invalid")),
                input=_jsonable(err.get("input")) if err.get("type") != "missing" else None,
            )
        )
    return out


def errors_from_issues(issues: Iterable[FieldIssue]) -> list[FieldError]:
    return [
        FieldError(field=i.field, reason=i.reason, type="scenario", suggestions=list(i.suggestions))
        for i in issues
    ]


def error_body(status: int, title: str, errors: list[FieldError]) -> dict[str, Any]:
    """The documented error shape, its list capped at MAX_ERRORS and every text encodable."""
    body = ErrorBody(status=status, title=title, errors=errors[:MAX_ERRORS])
    if len(errors) > MAX_ERRORS:
        body.errors_omitted = len(errors) - MAX_ERRORS
    data: dict[str, Any] = _clean(body.model_dump(mode="json", exclude_none=True))
    for err in data["errors"]:
        err.setdefault("input", None)  # None is a value here: "no input to show"
    return data


def error_response(status: int, title: str, errors: list[FieldError]) -> JSONResponse:
    return JSONResponse(error_body(status, title, errors), status_code=status)


class InvalidInput(Exception):
    """Raised by routes for input problems found outside pydantic (query-string shape)."""

    def __init__(self, errors: list[FieldError], title: str = "Invalid input") -> None:
        self.errors = errors
        self.title = title
        super().__init__(title)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _on_request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "Invalid input", errors_from_pydantic(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _on_validation(request: Request, exc: ValidationError) -> JSONResponse:
        return error_response(422, "Invalid input", errors_from_pydantic(exc.errors()))

    @app.exception_handler(ScenarioError)
    async def _on_scenario(request: Request, exc: ScenarioError) -> JSONResponse:
        return error_response(422, "Scenario cannot be priced", errors_from_issues(exc.issues))

    @app.exception_handler(InvalidInput)
    async def _on_invalid(request: Request, exc: InvalidInput) -> JSONResponse:
        return error_response(422, exc.title, exc.errors)

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # FastAPI's answer to a body that is not UTF-8 JSON: bad input like any other.
            return error_response(
                422,
                "Invalid input",
                [
                    FieldError(
                        field="body", reason="not valid JSON (UTF-8 expected)", type="json_invalid"
                    )
                ],
            )
        return JSONResponse(
            error_body(exc.status_code, str(exc.detail), []),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
