"""The pricing catalog's file format, validated with pydantic.

One TOML file per provider in `pricing_data/`. Every model row carries the URL its prices
come from and the date they were read (`source`, `as_of`). Prices are USD per 1M tokens.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from app.domain.scenario import MAX_MONEY, MAX_PRICE

Encoding = Literal["o200k_base", "cl100k_base"]
Kind = Literal["general", "fine_tuned", "open_weights"]
# `provider`: read on the provider's own page or API. `secondary`: a dated third-party copy,
# named in `source`. An undated or unsourced figure never goes in.
Confidence = Literal["provider", "secondary"]
# The catalog's limits are the request's: a price the API would refuse cannot be shipped.
CatalogPrice = Annotated[float, Field(ge=0, le=MAX_PRICE)]
CatalogMoney = Annotated[float, Field(ge=0, le=MAX_MONEY)]
MAX_HOURLY = 1e4  # USD per GPU-hour or endpoint-hour, as the request's gpu_hourly_price


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class TokenPrices(_Strict):
    """Serving prices. `input` and `output` left out: no public price; the user enters a quote."""

    input: CatalogPrice | None = Field(
        default=None, description="USD per 1M uncached input tokens (empty: quote required)"
    )
    output: CatalogPrice | None = Field(
        default=None, description="USD per 1M output tokens (empty: quote required)"
    )
    cached_input: CatalogPrice | None = Field(
        default=None, description="USD per 1M cache-read input tokens"
    )
    cache_write: CatalogPrice | None = Field(
        default=None,
        description="USD per 1M tokens written to the cache (5-minute TTL where there are two)",
    )
    cache_write_1h: CatalogPrice | None = Field(
        default=None, description="USD per 1M tokens written to a 1-hour cache"
    )

    @model_validator(mode="after")
    def _cached_not_above_input(self) -> TokenPrices:
        if (
            self.cached_input is not None
            and self.input is not None
            and self.cached_input > self.input
        ):
            raise ValueError(f"cached_input ({self.cached_input}) is above input ({self.input})")
        return self


class LongContextTier(_Strict):
    """Above `threshold_tokens` of input the whole request is billed at these prices."""

    threshold_tokens: int = Field(gt=0)
    prices: TokenPrices


class Training(_Strict):
    """How training a fine-tune of this model is billed.

    With neither price the route has no public training price: the request must give one
    (`finetuned.training.price_per_mtok` or `gpu_hours` with `gpu_hourly_price`).
    """

    price_per_mtok: CatalogPrice | None = Field(
        default=None, description="USD per 1M training tokens (file tokens x epochs)"
    )
    price_per_hour: float | None = Field(
        default=None,
        ge=0,
        le=MAX_HOURLY,
        description="USD per training hour, where training is billed by time",
    )
    minimum_per_job: CatalogMoney | None = Field(
        default=None, description="USD: a training job never costs less than this"
    )
    source: HttpUrl | None = None
    as_of: date | None = None
    confidence: Confidence | None = Field(
        default=None, description="Of the training price; the row's confidence when left out"
    )
    method: str | None = Field(default=None, description="e.g. supervised, LoRA, reinforcement")

    @model_validator(mode="after")
    def _dated_if_sourced(self) -> Training:
        if (self.source is None) != (self.as_of is None):
            raise ValueError("training.source and training.as_of go together")
        return self


class Lifecycle(_Strict):
    deprecated: date | None = None
    shutdown: date | None = None
    fine_tuning_closes: date | None = Field(
        default=None, description="The provider takes no new fine-tuning jobs from this date on"
    )
    successor: str | None = Field(
        default=None,
        description="Catalog id of the model that replaces this one (the provider's named successor)",
    )
    source: HttpUrl | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Lifecycle:
        if self.deprecated and self.shutdown and self.shutdown < self.deprecated:
            raise ValueError(f"shutdown ({self.shutdown}) is before deprecated ({self.deprecated})")
        return self


class TrainingThroughput(_Strict):
    """Self-trained fine-tuning on rented GPUs: GPU-hours one run needs per 1M training tokens
    (file tokens x epochs), as measured and published for one model, method and GPU."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: str
    model: str
    method: str = Field(description="e.g. LoRA, QLoRA, full")
    gpu: str
    gpus: int = Field(ge=1, le=1024, description="GPUs the run uses at once")
    gpu_hours_per_mtok: float = Field(gt=0, le=1e4, description="GPU-hours per 1M training tokens")
    source: HttpUrl
    as_of: date
    confidence: Confidence
    notes: str | None = None


class PriceOverride(_Strict):
    """Any subset of the token prices; the fields given replace the catalog's, the rest stay."""

    input: CatalogPrice | None = None
    output: CatalogPrice | None = None
    cached_input: CatalogPrice | None = None
    cache_write: CatalogPrice | None = None
    cache_write_1h: CatalogPrice | None = None


class PriceChange(_Strict):
    """An announced or past price change: from `from` (inclusive) the prices named replace
    the row's; prices not named stay. Changes accumulate in date order."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, frozen=True, populate_by_name=True
    )

    from_: date = Field(alias="from")
    prices: PriceOverride
    source: HttpUrl
    as_of: date
    confidence: Confidence
    note: str | None = None


class ModelEntry(_Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$")
    name: str
    provider: str
    kind: Kind
    base_model: str | None = Field(
        default=None, description="For fine-tuned serving rows: the id of the model tuned"
    )
    context_window: int | None = Field(default=None, gt=0)
    encoding: Encoding | None = Field(
        default=None, description="tiktoken encoding; none means token counts are estimated"
    )
    prices: TokenPrices
    batch_discount: float = Field(default=0.0, ge=0, le=1)
    min_cacheable_tokens: int = Field(default=0, ge=0, le=10_000_000)
    long_context: LongContextTier | None = None
    training: Training | None = None
    hosting_per_hour: float = Field(
        default=0.0,
        ge=0,
        le=MAX_HOURLY,
        description="USD per hour for a deployed fine-tuned model or its dedicated endpoint",
    )
    hosting_per_month: CatalogMoney = Field(
        default=0.0, description="USD per month per fine-tuned model: storage or hosting fee"
    )
    lifecycle: Lifecycle | None = None
    retired: bool = Field(
        default=False,
        description="Shut down: kept as history, never offered; lifecycle.successor names the way on",
    )
    price_changes: list[PriceChange] = Field(default_factory=list)
    source: HttpUrl
    as_of: date
    confidence: Confidence
    notes: str | None = None

    @property
    def oldest_as_of(self) -> date:
        """The date of the row's oldest price: a training price may be dated apart from it."""
        if self.training is not None and self.training.as_of is not None:
            return min(self.as_of, self.training.as_of)
        return self.as_of

    @model_validator(mode="after")
    def _fine_tuned_rows_are_complete(self) -> ModelEntry:
        if self.kind == "fine_tuned":
            if self.base_model is None:
                raise ValueError("a fine_tuned row needs base_model")
            if self.training is None:
                raise ValueError("a fine_tuned row needs a [training] price")
        froms = [c.from_ for c in self.price_changes]
        if froms != sorted(froms) or len(set(froms)) != len(froms):
            raise ValueError("price_changes must be in date order, one per date")
        if (
            self.long_context is not None
            and self.context_window is not None
            and self.long_context.threshold_tokens >= self.context_window
        ):
            raise ValueError(
                f"long_context.threshold_tokens ({self.long_context.threshold_tokens}) is not "
                f"below context_window ({self.context_window})"
            )
        return self


class GpuPrice(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    gpu: str
    provider: str
    offering: str
    hourly_price: float = Field(gt=0, le=MAX_HOURLY, description="USD per GPU-hour, on demand")
    source: HttpUrl
    as_of: date
    confidence: Confidence


class ThroughputPreset(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: str
    model: str
    gpu: str
    gpus_per_replica: int = Field(ge=1)
    prefill_tokens_per_s: float = Field(ge=1, le=1e9)
    decode_tokens_per_s: float = Field(ge=1, le=1e9)
    source: HttpUrl
    as_of: date
    confidence: Confidence
    notes: str | None = None


class TrainingOverride(_Strict):
    price_per_mtok: float | None = Field(default=None, ge=0)
    price_per_hour: float | None = Field(default=None, ge=0)


class Override(_Strict):
    """Negotiated-rate files only: change price fields of a model the shipped catalog has.

    `source` may be a URL or a contract reference (negotiated prices rarely have a public page).
    """

    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    as_of: date
    prices: PriceOverride | None = None
    long_context_prices: PriceOverride | None = None
    batch_discount: float | None = Field(default=None, ge=0, le=1)
    training: TrainingOverride | None = None
    hosting_per_hour: float | None = Field(default=None, ge=0)
    notes: str | None = None


class PricingFile(_Strict):
    """One file of `pricing_data/` (or of the negotiated-rates directory)."""

    provider: str | None = None
    discount_multiplier: dict[str, Annotated[float, Field(gt=0, le=10)]] = Field(
        default_factory=dict,
        description="Negotiated-rate files only: provider -> multiplier applied to its token prices",
    )
    overrides: list[Override] = Field(
        default_factory=list, description="Negotiated-rate files only: changed price fields"
    )
    models: list[ModelEntry] = Field(default_factory=list)
    gpus: list[GpuPrice] = Field(default_factory=list)
    throughput: list[ThroughputPreset] = Field(default_factory=list)
    training_throughput: list[TrainingThroughput] = Field(default_factory=list)
