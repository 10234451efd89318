"""The pricing catalog's file format, validated with pydantic.

One TOML file per provider in `pricing_data/`. Every model row carries the URL its prices
come from and the date they were read (`source`, `as_of`). Prices are USD per 1M tokens.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

Encoding = Literal["o200k_base", "cl100k_base"]
Kind = Literal["general", "fine_tuned", "open_weights"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class TokenPrices(_Strict):
    input: float = Field(ge=0, description="USD per 1M uncached input tokens")
    output: float = Field(ge=0, description="USD per 1M output tokens")
    cached_input: float | None = Field(
        default=None, ge=0, description="USD per 1M cache-read input tokens"
    )
    cache_write: float | None = Field(
        default=None,
        ge=0,
        description="USD per 1M tokens written to the cache (5-minute TTL where there are two)",
    )
    cache_write_1h: float | None = Field(
        default=None, ge=0, description="USD per 1M tokens written to a 1-hour cache"
    )

    @model_validator(mode="after")
    def _cached_not_above_input(self) -> TokenPrices:
        if self.cached_input is not None and self.cached_input > self.input:
            raise ValueError(f"cached_input ({self.cached_input}) is above input ({self.input})")
        return self


class LongContextTier(_Strict):
    """Above `threshold_tokens` of input the whole request is billed at these prices."""

    threshold_tokens: int = Field(gt=0)
    prices: TokenPrices


class Training(_Strict):
    """How training a fine-tune of this model is billed."""

    price_per_mtok: float | None = Field(
        default=None, ge=0, description="USD per 1M training tokens (file tokens x epochs)"
    )
    price_per_hour: float | None = Field(
        default=None, ge=0, description="USD per training hour, where training is billed by time"
    )
    source: HttpUrl | None = None
    as_of: date | None = None
    method: str | None = Field(default=None, description="e.g. supervised, LoRA, reinforcement")

    @model_validator(mode="after")
    def _one_price(self) -> Training:
        if self.price_per_mtok is None and self.price_per_hour is None:
            raise ValueError("training needs price_per_mtok or price_per_hour")
        return self


class Lifecycle(_Strict):
    deprecated: date | None = None
    shutdown: date | None = None
    fine_tuning_closes: date | None = Field(
        default=None, description="No new fine-tuning jobs can be started after this date"
    )
    source: HttpUrl | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Lifecycle:
        if self.deprecated and self.shutdown and self.shutdown < self.deprecated:
            raise ValueError(f"shutdown ({self.shutdown}) is before deprecated ({self.deprecated})")
        return self


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
    min_cacheable_tokens: int = Field(default=0, ge=0)
    long_context: LongContextTier | None = None
    training: Training | None = None
    hosting_per_hour: float = Field(default=0.0, ge=0)
    lifecycle: Lifecycle | None = None
    source: HttpUrl
    as_of: date
    notes: str | None = None

    @model_validator(mode="after")
    def _fine_tuned_rows_are_complete(self) -> ModelEntry:
        if self.kind == "fine_tuned":
            if self.base_model is None:
                raise ValueError("a fine_tuned row needs base_model")
            if self.training is None:
                raise ValueError("a fine_tuned row needs a [training] price")
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
    hourly_price: float = Field(gt=0, description="USD per GPU-hour, on demand")
    source: HttpUrl
    as_of: date


class ThroughputPreset(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: str
    model: str
    gpu: str
    gpus_per_replica: int = Field(ge=1)
    prefill_tokens_per_s: float = Field(gt=0)
    decode_tokens_per_s: float = Field(gt=0)
    source: HttpUrl
    as_of: date
    notes: str | None = None


class PriceOverride(_Strict):
    """Any subset of the token prices; the fields given replace the catalog's, the rest stay."""

    input: float | None = Field(default=None, ge=0)
    output: float | None = Field(default=None, ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)
    cache_write_1h: float | None = Field(default=None, ge=0)


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
