"""The scenario a user describes: the request half of the public contract.

Field names and units are the API's contract (see docs/api.md); every limit is declared here,
so a bad value is rejected with the field path before the engine runs.
Money is USD, token prices USD per 1M tokens, volume queries per month, time whole months.
"""

from __future__ import annotations

import re
from datetime import date
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

MAX_VOLUME = 1e12  # queries per month; also the ceiling of the break-even volume search
MAX_TOKENS = 1e7
MAX_PRICE = 1e5  # USD per 1M tokens
MAX_MONEY = 1e12  # USD
FIRST_START, LAST_START = date(2000, 1, 1), date(2099, 12, 31)  # workload.start_date


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Validation context of text read from a query string: numbers arrive as text there.
FROM_TEXT = {"from_text": True}


class _Input(BaseModel):
    # Unknown fields are errors: a typo in a spreadsheet URL must not fall back to a default.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _strict_types(cls, data: Any, info: ValidationInfo) -> Any:
        # The types the OpenAPI schema states, which pydantic's lax mode stretches: JSON true
        # is not a number, "5" in a JSON body is not one either (query strings, validated with
        # FROM_TEXT, are text), 0 or "0" is not a date (lax mode reads 1970-01-01), and text
        # with a lone surrogate is not text. A refused value is swapped for a Refused, which
        # the field's own validation then rejects, so the error names the field.
        if not isinstance(data, dict):
            return data
        kinds = _kinds(cls)
        from_text = bool((info.context or {}).get("from_text"))
        out: dict[str, Any] | None = None
        for name, value in data.items():
            refused = _refusal(kinds.get(name, ""), value, from_text)
            if refused is not None:
                out = dict(data) if out is None else out
                out[name] = refused
        return data if out is None else out


class Refused:
    """A value refused before validation; its text is the value as given."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        return str(self.value)[:200]


def _refusal(kind: str, value: Any, from_text: bool) -> Refused | None:
    if isinstance(value, bool):
        return Refused(value) if kind.startswith("number") or kind == "date" else None
    if isinstance(value, str):
        if not value.isascii() and any("\ud800" <= ch <= "\udfff" for ch in value):
            return Refused(value.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
        if kind == "date" and not _ISO_DATE.fullmatch(value):
            return Refused(value)
        if kind == "number" and not from_text:
            return Refused(value)
        return None
    if kind == "date" and value is not None and not isinstance(value, date):
        return Refused(value)
    return None


def _kinds(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> "number", "number_or_text" (epochs: a number or 'auto'), "date" or ""."""
    found = _KINDS.get(model)
    if found is None:
        found = {name: _kind(info.annotation) for name, info in model.model_fields.items()}
        _KINDS[model] = found
    return found


def _kind(annotation: Any) -> str:
    types: set[Any] = set()
    stack = [annotation]
    while stack:
        t = stack.pop()
        origin = get_origin(t)
        if origin is Annotated:
            stack.append(get_args(t)[0])
        elif origin in (Union, UnionType):
            stack.extend(get_args(t))
        else:
            types.add(origin or t)
    if date in types:
        return "date"
    if types & {float, int} and bool not in types:
        return "number_or_text" if types & {str, Literal} else "number"
    return ""


_KINDS: dict[type[BaseModel], dict[str, str]] = {}


Rate = Annotated[float, Field(ge=0, le=1)]
Tokens = Annotated[float, Field(ge=0, le=MAX_TOKENS)]
Money = Annotated[float, Field(ge=0, le=MAX_MONEY)]
Price = Annotated[float, Field(ge=0, le=MAX_PRICE)]


class Workload(_Input):
    queries_per_month: float = Field(
        default=100_000, ge=0, le=MAX_VOLUME, description="Queries in month 1 (queries/month)"
    )
    monthly_growth: float = Field(
        default=0.0,
        ge=-0.5,
        le=1.0,
        description="Month-over-month volume growth as a fraction (0.05 = +5% a month)",
    )
    horizon_months: int = Field(
        default=12, ge=1, le=120, description="Months compared, after the month-0 investment"
    )
    peak_to_average: float = Field(
        default=2.0,
        ge=1,
        le=100,
        description="Peak traffic over average traffic; sizes self-hosted GPU replicas",
    )
    start_date: date | None = Field(
        default=None,
        description="First day of month 1 (ISO date); today when omitted. Dated prices, shutdowns and fine-tuning closures are placed on this calendar.",
    )
    lifecycle: Literal["follow", "ignore"] = Field(
        default="follow",
        description="follow: bill each month at the prices in force then, switch to the successor when a model shuts down and charge the migration; ignore: bill every month at the prices in force on start_date (warnings are still given)",
    )
    discount_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Annual discount rate for present values (0.08 = 8% a year); month m counts (1 + r)^(-m/12)",
    )

    @field_validator("start_date")
    @classmethod
    def _start_in_calendar(cls, value: date | None) -> date | None:
        # Month 0 and month 120 must be calendar dates; a budget plan lives well inside these.
        if value is not None and not (FIRST_START <= value <= LAST_START):
            raise ValueError(f"must be between {FIRST_START} and {LAST_START}")
        return value


class Prices(_Input):
    """Explicit prices; each one given overrides the catalog's."""

    input: Price | None = Field(default=None, description="USD per 1M uncached input tokens")
    cached_input: Price | None = Field(
        default=None, description="USD per 1M input tokens read from the prompt cache"
    )
    cache_write: Price | None = Field(
        default=None,
        description="USD per 1M prompt tokens written to the cache on a miss (defaults to input)",
    )
    output: Price | None = Field(default=None, description="USD per 1M output tokens")
    batch_discount: Rate | None = Field(
        default=None, description="Discount of the batch API as a fraction (0.5 = half price)"
    )


class Arm(_Input):
    model: str | None = Field(
        default=None,
        max_length=200,
        description="Catalog model id. Omitted with no prices: the arm's default model.",
    )
    prices: Prices = Field(default_factory=Prices)
    static_prompt_tokens: Tokens = Field(
        default=0,
        description="Tokens of the identical prefix of every request (instructions, few-shot examples); the cacheable part",
    )
    dynamic_input_tokens: Tokens = Field(
        default=500, description="Tokens that change per query (user input, retrieved context)"
    )
    output_tokens: Tokens = Field(
        default=300, description="Generated tokens per query, reasoning tokens included"
    )
    cache_hit_rate: Rate = Field(
        default=0.0, description="Share of requests whose static prompt is read from the cache"
    )
    batch_share: Rate = Field(default=0.0, description="Share of requests sent through a batch API")
    error_rate: Rate = Field(default=0.0, description="Share of answers that are wrong")
    cost_per_error: Money = Field(
        default=0.0,
        description="Expected USD cost of one wrong answer (review, escalation, refund)",
    )
    setup_cost: Money = Field(default=0.0, description="One-time USD cost in month 0")
    monthly_fixed_cost: Money = Field(
        default=0.0, description="USD per month of upkeep (prompt/model maintenance, monitoring)"
    )
    successor: str | None = Field(
        default=None,
        max_length=200,
        description="Catalog id that prices the arm once its model shuts down (overrides the catalog's successor)",
    )
    migration_cost: Money | None = Field(
        default=None,
        description="One-time USD cost of moving to the successor in the shutdown month (default: prompted, its setup_cost; fine-tuned, one training run plus evaluation_cost)",
    )


DEFAULT_PROMPTED_MODEL = "gpt-6.2-sol"
DEFAULT_FINETUNED_MODEL = "ft:tinker/qwen3-8b-lora"


class PromptedArm(Arm):
    static_prompt_tokens: Tokens = Field(
        default=3000,
        description="Tokens of the identical prefix of every request (instructions, few-shot examples); the cacheable part",
    )
    setup_cost: Money = Field(
        default=2000, description="One-time USD cost in month 0: prompt design and evaluation"
    )
    monthly_fixed_cost: Money = Field(
        default=500, description="USD per month: prompt upkeep, regression tests, monitoring"
    )


class Training(_Input):
    examples: int = Field(default=1000, ge=0, le=100_000_000, description="Training examples")
    tokens_per_example: Tokens = Field(default=1000, description="Tokens per training example")
    epochs: Annotated[float, Field(gt=0, le=100)] | Literal["auto"] = Field(
        default="auto",
        description="Passes over the training file; 'auto' follows OpenAI's default rule (3, adjusted for very small or large files)",
    )
    price_per_mtok: Price | None = Field(
        default=None, description="USD per 1M training tokens (overrides the catalog)"
    )
    gpu_hours: float | None = Field(
        default=None,
        ge=0,
        le=1e7,
        description="GPU hours per training run; when given, training is billed by the hour",
    )
    gpu_hourly_price: float | None = Field(
        default=None,
        ge=0,
        le=1e4,
        description="USD per training GPU-hour (defaults to the catalog's hourly training price or the self-hosted GPU price)",
    )


class SelfHosted(_Input):
    gpu_hourly_price: float = Field(gt=0, le=1e4, description="USD per GPU-hour")
    gpus_per_replica: int = Field(
        default=1, ge=1, le=1024, description="GPUs in one serving replica"
    )
    # At least 1 token/s: slower is no serving system, and the replica count would overflow.
    prefill_tokens_per_s: float = Field(
        ge=1, le=1e9, description="Input tokens per second one replica processes (aggregate)"
    )
    decode_tokens_per_s: float = Field(
        ge=1, le=1e9, description="Output tokens per second one replica generates (aggregate)"
    )
    min_replicas: int = Field(
        default=1, ge=0, le=100_000, description="Replicas kept running at any volume"
    )
    target_utilization: float = Field(
        default=0.7, ge=0.01, le=1, description="Share of a replica's capacity planned for at peak"
    )


class FinetunedArm(Arm):
    static_prompt_tokens: Tokens = Field(
        default=200,
        description="Tokens of the short prompt the fine-tuned model still needs",
    )
    setup_cost: Money = Field(
        default=10_000,
        description="One-time USD cost in month 0: engineering of the training and serving pipeline",
    )
    monthly_fixed_cost: Money = Field(
        default=1000, description="USD per month of MLOps upkeep: monitoring, versioning, rollback"
    )
    training: Training = Field(default_factory=Training)
    cost_per_example: Money = Field(
        default=2.0, description="USD to collect, clean and label one training example"
    )
    evaluation_cost: Money = Field(
        default=2000, description="USD per training run to evaluate against held-out data"
    )
    retrain_every_months: int = Field(
        default=0, ge=0, le=120, description="Retrain every R months (0 = never)"
    )
    new_examples_per_retrain: int = Field(
        default=0, ge=0, le=100_000_000, description="New examples labelled for each retraining"
    )
    hosting_per_hour: Money | None = Field(
        default=None,
        description="USD per hour a provider bills for a deployed fine-tuned model or its dedicated endpoint (default: the catalog's, else 0)",
    )
    hosting_per_month: Money | None = Field(
        default=None,
        description="USD per month a provider bills to keep a fine-tuned model (storage; default: the catalog's, else 0)",
    )
    self_hosted: SelfHosted | None = Field(
        default=None, description="Serve on your own GPUs instead of per token"
    )


class Factors(_Input):
    requirements_volatility: Literal["low", "medium", "high"] = Field(
        default="medium", description="How often the task's requirements change"
    )
    strict_format: bool = Field(
        default=False, description="Output must follow a strict format (exact JSON, fixed labels)"
    )
    specialised_domain: bool = Field(
        default=False, description="The domain has its own vocabulary (legal, medical, ...)"
    )
    min_examples: int = Field(
        default=300,
        ge=0,
        le=1_000_000,
        description="Fewest training examples worth fine-tuning on",
    )


class Scenario(_Input):
    workload: Workload = Field(default_factory=Workload)
    prompted: PromptedArm = Field(default_factory=PromptedArm)
    finetuned: FinetunedArm = Field(default_factory=FinetunedArm)
    factors: Factors = Field(default_factory=Factors)
    title: str | None = Field(default=None, max_length=200, description="A name for the scenario")
