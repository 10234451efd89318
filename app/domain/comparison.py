"""The result of comparing the two arms: the response half of the public contract.

Numbers are unrounded USD; `None` (JSON null) appears exactly where COST_MODEL.md says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

Approach = Literal[
    "prompt_engineering", "fine_tuning", "prompt_then_fine_tune", "fine_tune_plus_prompt"
]
ArmName = Literal["prompted", "finetuned"]


# Month rows and curve points are computed, never read from a request, and there are about
# 170 of them in every answer: slotted dataclasses cost a tenth of a pydantic model each
# (measured: 0.2 us against 1.9 us for model_construct). Pydantic still validates them inside
# the models below, serialises them, and describes them in the OpenAPI schema.
EventCode = Literal[
    "price_change", "shutdown_switch", "migration", "retraining", "retraining_after_closure"
]


@dataclass(slots=True, frozen=True)
class MonthEvent:
    code: Annotated[
        EventCode,
        Field(
            description="price_change: a dated catalog price took effect; shutdown_switch: the "
            "model shut down and the successor prices from here; migration: the one-time move; "
            "retraining; retraining_after_closure: a retraining after the provider stopped "
            "taking fine-tuning jobs"
        ),
    ]
    arm: Annotated[str, Field(description="The arm (or candidate id) the event belongs to")]


@dataclass(slots=True)
class MonthCost:
    month: Annotated[int, Field(description="0 is before launch: one-time costs land there")]
    queries: float
    cost: Annotated[float, Field(description="USD spent in this month")]
    cumulative: Annotated[float, Field(description="USD spent from month 0 to this month")]
    replicas: Annotated[
        int | None, Field(description="Self-hosted GPU replicas running this month")
    ] = None
    model: Annotated[
        str | None,
        Field(description="Catalog id that priced this month; null when every price was given"),
    ] = None
    events: Annotated[
        tuple[MonthEvent, ...], Field(description="What happened this month, by arm")
    ] = ()


class PriceUsed(BaseModel):
    value: float
    source: str = Field(
        description="'request', 'catalog:<model id>', 'catalog:<model id> (long context)', "
        "'default' or 'negotiated:<file>'"
    )


class PerQueryBreakdown(BaseModel):
    """What one query costs on average over the horizon, by part (USD)."""

    cached_input: float
    cache_write: float = Field(description="Static prompt tokens billed on a cache miss")
    input: float = Field(description="Dynamic input tokens")
    output: float
    errors: float = Field(description="error_rate x cost_per_error")
    fixed: float = Field(description="Monthly fixed costs and hosting, spread over all queries")
    one_time: float = Field(description="Month-0 and retraining costs, spread over all queries")


class ArmResult(BaseModel):
    model: str | None = Field(description="Catalog row used, if any")
    serving: Literal["per_token", "self_hosted"]
    prices: dict[str, PriceUsed] = Field(description="Effective prices (USD per 1M tokens)")
    variable_cost_per_query: float = Field(description="USD per query: tokens and errors")
    one_time_cost: float = Field(description="USD in month 0")
    recurring_one_time_cost: float = Field(
        description="USD of one retraining (finetuned) or 0; billed in months R, 2R, ..."
    )
    monthly_fixed_cost: float = Field(description="USD per month of fixed costs and hourly hosting")
    total_cost: float = Field(description="USD from month 0 to the horizon")
    total_queries: float
    average_cost_per_query: float | None = Field(description="null when there are no queries")
    per_query: PerQueryBreakdown | None = Field(description="null when there are no queries")
    monthly: list[MonthCost]


class BreakEven(BaseModel):
    payback_month: int | None = Field(
        description="First month whose cumulative fine-tuned cost is at most the prompted one"
    )
    monthly_volume: float | None = Field(
        description="Smallest constant monthly volume at which fine-tuning costs no more over the horizon"
    )
    queries_to_recoup: float | None = Field(
        description="Extra one-time investment divided by the month-1 saving per query"
    )


class Reason(BaseModel):
    code: str
    text: str
    fields: list[str] = Field(description="Inputs that drove this reason (dotted names)")


class Recommendation(BaseModel):
    approach: Approach
    headline: str
    reasons: list[Reason]


class Warning(BaseModel):
    code: str
    message: str
    arm: str | None = Field(default=None, description="The arm, or the candidate id")
    field: str | None = None


class PresentValue(BaseModel):
    """Totals with month m's cost counted (1 + r)^(-m/12) times (r: workload.discount_rate)."""

    prompted: float
    finetuned: float
    savings: float = Field(description="prompted - finetuned")


class Comparison(BaseModel):
    title: str | None = None
    horizon_months: int
    prompted: ArmResult
    finetuned: ArmResult
    break_even: BreakEven
    savings_over_horizon: float = Field(
        description="total prompted - total fine-tuned (positive: fine-tuning saves money)"
    )
    present_value: PresentValue
    recommendation: Recommendation
    warnings: list[Warning]
    prices_as_of: date | None = Field(
        description="Oldest as-of date of the catalog prices used; null when every price was given"
    )
    prices_stale: bool = Field(
        description="True when prices_as_of is older than the stale threshold"
    )


@dataclass(slots=True)
class VolumePoint:
    volume: Annotated[float, Field(description="Constant monthly volume (queries/month)")]
    prompted: Annotated[
        float, Field(description="Steady monthly cost (USD), one-time costs spread")
    ]
    finetuned: float


@dataclass(slots=True)
class MonthPoint:
    month: int
    prompted: Annotated[float, Field(description="Cumulative USD")]
    finetuned: float


@dataclass(slots=True)
class ChartEvent:
    month: int
    arm: str
    codes: Annotated[
        tuple[EventCode, ...],
        Field(description="price_change, shutdown_switch, migration (retraining is not marked)"),
    ]


class Curves(BaseModel):
    volume: list[VolumePoint]
    cumulative: list[MonthPoint]
    break_even_volume: float | None
    payback_month: int | None
    current_volume: float
    events: list[ChartEvent] = Field(
        default_factory=list,
        description="Months where a price changed, a model was switched or a migration was paid, by arm",
    )
