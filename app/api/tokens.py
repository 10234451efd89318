"""Token counting: POST /api/v1/tokens (JSON) and the page's counter fragment, POST /tokens/count.

Both routes cap the request body at MAX_BODY_BYTES. The cap is enforced while the body streams
in (and up front from Content-Length), so an oversized request is refused without being read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from starlette.concurrency import run_in_threadpool

from app.api.deps import CatalogDep, KnownQueryOnly
from app.api.errors import ErrorBody, FieldError, InvalidInput, errors_from_pydantic
from app.domain.tokens import ChatMessage, TokenCount, UnknownModel, count_messages, count_text
from app.middleware import MAX_TOKENS_BODY_BYTES
from app.pricing import Catalog
from app.templating import templates

MAX_MESSAGES = 10_000
MAX_FORM_FIELDS = 20  # the counter's form has four
INLINE_COUNT_CHARS = 50_000  # counted on the event loop up to this size, else in the pool

# The scenario inputs the counter can fill: form field name and the element id the page gives it.
TARGETS: dict[str, tuple[str, str]] = {
    "static": ("prompted.static_prompt_tokens", "prompted-static_prompt_tokens"),
    "dynamic": ("prompted.dynamic_input_tokens", "prompted-dynamic_input_tokens"),
}
TARGET_LABELS = {"static": "static prompt tokens", "dynamic": "dynamic input tokens"}
# htmx event sent (HX-Trigger) when a count is put into the scenario form, so the page can
# recompute: hx-trigger="... , tokens-applied from:body".
APPLIED_EVENT = "tokens-applied"


# The 2 MiB body limit is enforced for this route by app.middleware (LARGE_BODY_PATHS).
router = APIRouter()


SURROGATE = "text holds a lone surrogate (\\ud800-\\udfff), not a character"


def _has_surrogate(text: str) -> bool:
    # Valid as a JSON escape, not as Unicode text: it could not be counted or answered.
    return not text.isascii() and any("\ud800" <= ch <= "\udfff" for ch in text)


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200, description="Model id, e.g. gpt-4.1-mini")
    text: str | None = Field(default=None, description="A plain prompt (no chat framing)")
    messages: list[ChatMessage] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_MESSAGES,
        description="A chat transcript; counted with OpenAI's per-message framing",
    )

    @field_validator("model", "text")
    @classmethod
    def _no_lone_surrogates(cls, value: str | None) -> str | None:
        if value is not None and _has_surrogate(value):
            raise ValueError(SURROGATE)
        return value

    @field_validator("messages")
    @classmethod
    def _messages_no_lone_surrogates(
        cls, value: list[ChatMessage] | None
    ) -> list[ChatMessage] | None:
        for i, m in enumerate(value or ()):
            if _has_surrogate(m.content) or _has_surrogate(m.name or ""):
                raise ValueError(f"message {i}: {SURROGATE}")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> TokenRequest:
        if (self.text is None) == (self.messages is None):
            raise ValueError("give exactly one of text or messages")
        return self


ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": f"Body larger than {MAX_TOKENS_BODY_BYTES} bytes"},
    422: {"model": ErrorBody, "description": "Invalid input or unknown model"},
}


def _count(request: TokenRequest, catalog: Catalog) -> TokenCount:
    try:
        if request.messages is not None:
            return count_messages(request.model, request.messages, catalog)
        return count_text(request.model, request.text or "", catalog)
    except UnknownModel as exc:
        raise InvalidInput(
            [
                FieldError(
                    field="model",
                    reason="unknown model: not in the pricing catalog and not a model family "
                    "we can count or estimate",
                    type="unknown_model",
                    input=exc.model,
                    suggestions=exc.suggestions,
                )
            ],
            title="Unknown model",
        ) from exc


@router.post(
    "/api/v1/tokens",
    tags=["tokens"],
    response_model=TokenCount,
    responses=ERRORS,
    dependencies=[KnownQueryOnly],
)
async def count_tokens(body: TokenRequest, catalog: CatalogDep) -> Response:
    """Count the tokens of a prompt or chat transcript for a model: exact with tiktoken, or estimated."""
    # A typical prompt counts in well under a millisecond: do it here rather than pay a
    # thread-pool hop. Long texts (up to 2 MiB, ~0.5 s) go to the pool so the loop stays free.
    if _size(body) <= INLINE_COUNT_CHARS:
        result = _count(body, catalog)
    else:
        result = await run_in_threadpool(_count, body, catalog)
    return Response(result.model_dump_json(), media_type="application/json")


def _size(body: TokenRequest) -> int:
    if body.messages is not None:
        return sum(len(m.content) + len(m.role) + len(m.name or "") for m in body.messages)
    return len(body.text or "")


# --- the page's counter fragment -----------------------------------------------------------


class CounterForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=200)
    text: str = ""
    target: Literal["static", "dynamic"] = "static"
    action: Literal["count", "apply"] = "count"


@dataclass
class CounterView:
    """What _partials/_token_counter.html renders; the page builds one with `counter_view`."""

    model: str
    text: str = ""
    target: str = "static"
    models: list[str] = field(default_factory=list)
    result: TokenCount | None = None
    errors: list[FieldError] = field(default_factory=list)
    applied: bool = False

    @property
    def target_field(self) -> str:
        return TARGETS.get(self.target, TARGETS["static"])[0]

    @property
    def target_id(self) -> str:
        return TARGETS.get(self.target, TARGETS["static"])[1]

    @property
    def target_label(self) -> str:
        return TARGET_LABELS.get(self.target, TARGET_LABELS["static"])

    @property
    def targets(self) -> dict[str, str]:
        return TARGET_LABELS


def counter_view(catalog: Catalog, model: str = "", target: str = "static") -> CounterView:
    """An empty counter for the page to include, with the scenario's current model."""
    return CounterView(model=model, target=target, models=sorted(m.id for m in catalog.offered()))


def _form_items(raw: bytes) -> dict[str, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput([FieldError(field="body", reason="not UTF-8", type="encoding")]) from exc
    # Last value wins for a repeated key, as in a browser form with one field of each name.
    try:
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
    except ValueError as exc:  # more fields than the counter's form has, many times over
        raise InvalidInput(
            [
                FieldError(
                    field="body",
                    reason=f"at most {MAX_FORM_FIELDS} form fields",
                    type="too_many",
                )
            ]
        ) from exc


@router.post("/tokens/count", include_in_schema=False)
async def count_tokens_fragment(request: Request, catalog: CatalogDep) -> Response:
    """The counter fragment with the count, for htmx (form-encoded: model, text, target, action)."""
    # Read here rather than with Form(): python-multipart is not a dependency, and the body goes
    # through _LimitedRequest either way.
    items = _form_items(await request.body())
    view = CounterView(
        model=items.get("model", ""),
        text=items.get("text", ""),
        target=items.get("target", "static"),
        models=sorted(m.id for m in catalog.offered()),
    )
    status = 200
    headers: dict[str, str] = {"Vary": "HX-Request"}
    try:
        form = CounterForm.model_validate(items)
        # Counting a long prompt is CPU work: keep it off the event loop.
        view.result = await run_in_threadpool(
            _count, TokenRequest(model=form.model, text=form.text), catalog
        )
        view.applied = form.action == "apply"
    except ValidationError as exc:
        view.errors, status = errors_from_pydantic(exc.errors()), 422
    except InvalidInput as exc:
        view.errors, status = exc.errors, 422
    if view.applied and view.result is not None:
        detail = {"field": view.target_field, "tokens": view.result.tokens}
        headers["HX-Trigger"] = json.dumps({APPLIED_EVENT: detail})
    return templates.TemplateResponse(
        request,
        "_partials/_token_counter.html",
        {"counter": view},
        status_code=status,
        headers=headers,
    )
