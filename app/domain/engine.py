"""The cost model of COST_MODEL.md: `compare(scenario) -> Comparison`.

Two steps. `resolve_arm` turns one arm (or candidate) plus the catalog and the calendar into
an `ArmCosts`: per-month arrays of the variable cost per query, the fixed costs and the
one-off costs (retraining, migration), the month-0 investment and the self-hosted sizing.
Dates stop there. Everything after is arithmetic on those arrays, shared by the two-arm
comparison, several candidates (candidates.py), the curves, the sensitivity analysis and the
Monte Carlo: the cumulative curve, the constant-volume totals and the break-even solvers all
read the same months.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal, cast

from app.domain.calendar import Calendar
from app.domain.comparison import (
    ArmResult,
    BreakEven,
    ChartEvent,
    Comparison,
    Curves,
    MonthCost,
    MonthEvent,
    MonthPoint,
    PerQueryBreakdown,
    PresentValue,
    PriceUsed,
    VolumePoint,
    Warning,
)
from app.domain.formatting import usd
from app.domain.recommend import recommend
from app.domain.scenario import (
    DEFAULT_FINETUNED_MODEL,
    DEFAULT_PROMPTED_MODEL,
    MAX_VOLUME,
    Arm,
    FinetunedArm,
    Scenario,
    Workload,
)
from app.domain.solve import Root, Steps, first_root
from app.pricing.catalog import Catalog
from app.pricing.schema import ModelEntry, TokenPrices

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
MTOK = 1e6
MAX_SUCCESSIONS = 8  # shutdowns followed within one horizon (a chain of successors)

Role = Literal["prompted", "finetuned"]
TOKEN_KEYS = ("input", "cached_input", "cache_write", "output")


@dataclass(frozen=True)
class FieldIssue:
    field: str
    reason: str
    suggestions: tuple[str, ...] = ()


class ScenarioError(ValueError):
    """The scenario cannot be priced: a missing price, an unknown model. Names the fields."""

    def __init__(self, issues: Sequence[FieldIssue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(f"{i.field}: {i.reason}" for i in self.issues))


@dataclass(frozen=True)
class SelfHostedCost:
    seconds_per_query: float
    peak_to_average: float
    target_utilization: float
    min_replicas: int
    replica_monthly_cost: float  # gpus_per_replica * gpu_hourly_price * 730

    def replicas(self, queries: float) -> int:
        peak_qps = queries / SECONDS_PER_MONTH * self.peak_to_average
        need = peak_qps * self.seconds_per_query / self.target_utilization
        # `need` is finite for every valid input (volume <= 1e12, throughput >= 1 token/s).
        return max(self.min_replicas, math.ceil(need))

    @property
    def queries_per_replica(self) -> float:
        """Monthly volume one replica carries at target utilisation (inf with no load)."""
        load = self.peak_to_average * self.seconds_per_query / self.target_utilization
        return math.inf if load == 0 else SECONDS_PER_MONTH / load


@dataclass(frozen=True)
class ArmCosts:
    """One arm or candidate, costed month by month. USD; index m-1 holds month m."""

    name: str  # "prompted", "finetuned", or a candidate id
    role: Literal["prompted", "finetuned", "hybrid"]
    variable: tuple[float, ...]  # per query, batch discount and errors included
    fixed: tuple[float, ...]  # monthly fixed costs and hourly/monthly hosting fees
    one_off: tuple[float, ...]  # retraining and migration
    one_time: float  # month 0
    self_hosted: SelfHostedCost | None
    models: tuple[str | None, ...]  # months 0..H: the catalog row that priced the month
    events: tuple[tuple[MonthEvent, ...], ...]  # months 0..H
    # Token parts per query after the batch discount, months 1..H: cached, write, input, output.
    parts: tuple[tuple[float, float, float, float], ...]
    errors: float
    prices: dict[str, PriceUsed] = field(default_factory=dict)  # month 1's
    model: str | None = None  # month 1's
    retrain_cost: float = 0.0  # one retraining at month-1 prices
    retrain_every: int = 0
    as_of: date | None = None
    share: float = 1.0  # share of the volume the self-hosted capacity serves (a hybrid's core)
    # What the months were priced from, for the Monte Carlo to re-price them per sample:
    # the arm's own row, each month's (row, prices in force) as an index into `regimes`, and
    # the switches applied (month, row pricing from then on; None: unchanged prices).
    entry: ModelEntry | None = None
    rows: tuple[ModelEntry | None, ...] = ()  # months 1..H: the row in force
    regimes: tuple[tuple[ModelEntry | None, dict[str, tuple[float, str]]], ...] = ()
    regime_of: tuple[int, ...] = ()
    switches: tuple[tuple[int, ModelEntry | None], ...] = ()
    sum_variable: float = field(init=False)
    sum_fixed: float = field(init=False)  # fixed + one-off over the horizon, one-time excluded

    def __post_init__(self) -> None:
        object.__setattr__(self, "sum_variable", math.fsum(self.variable))
        object.__setattr__(self, "sum_fixed", math.fsum(self.fixed) + math.fsum(self.one_off))

    @property
    def horizon(self) -> int:
        return len(self.variable)

    @property
    def variable_cost_per_query(self) -> float:
        return self.variable[0]

    @property
    def monthly_fixed(self) -> float:
        return self.fixed[0]

    def hosting(self, queries: float) -> tuple[float, int | None]:
        if self.self_hosted is None:
            return 0.0, None
        n = self.self_hosted.replicas(queries * self.share)
        return n * self.self_hosted.replica_monthly_cost, n

    def month_cost(self, queries: float, month: int) -> float:
        i = month - 1
        return (
            queries * self.variable[i] + self.fixed[i] + self.hosting(queries)[0] + self.one_off[i]
        )

    def steady_total(self, volume: float, horizon: int | None = None) -> float:
        """total_cost with a constant monthly volume (growth 0): the volume curve's basis."""
        H = self.horizon
        return (
            self.one_time
            + volume * self.sum_variable
            + self.sum_fixed
            + H * self.hosting(volume)[0]
        )

    def steps(self) -> Steps | None:
        """The replica steps of `steady_total` as the solver sees them."""
        sh = self.self_hosted
        if sh is None:
            return None
        width = sh.queries_per_replica / self.share if self.share > 0 else math.inf
        share = self.share
        return Steps(
            self.horizon * sh.replica_monthly_cost,
            width,
            sh.min_replicas,
            count=lambda v: sh.replicas(v * share),
        )


# --- resolving prices -------------------------------------------------------------------


def auto_epochs(examples: int) -> int:
    """OpenAI's default n_epochs (openai-cookbook, Chat_finetuning_data_prep.ipynb)."""
    if examples <= 0:
        return 3
    if examples * 3 < 100:
        return min(25, 100 // examples)
    if examples * 3 > 25_000:
        return max(1, 25_000 // examples)
    return 3


def _lookup(catalog: Catalog, model_id: str, path: str) -> ModelEntry:
    entry = catalog.get(model_id)
    if entry is None:
        suggestions = tuple(catalog.suggest(model_id))
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        raise ScenarioError([FieldIssue(path, f"unknown model '{model_id}'{hint}", suggestions)])
    return entry


def _arm_entry(
    arm: Arm, role: Role, path: str, catalog: Catalog, warnings: list[Warning], label: str
) -> ModelEntry | None:
    """The catalog row an arm uses: its `model`, or the default when it gives no prices."""
    self_hosted = isinstance(arm, FinetunedArm) and arm.self_hosted is not None
    model_id = arm.model
    if model_id is None:
        if self_hosted or arm.prices.model_fields_set:
            return None
        model_id = DEFAULT_PROMPTED_MODEL if role == "prompted" else DEFAULT_FINETUNED_MODEL
    entry = _lookup(catalog, model_id, f"{path}.model")
    if role == "finetuned" and entry.training is None:
        variant = catalog.fine_tuned_variant(entry.id)
        if variant is not None:
            warnings.append(
                Warning(
                    code="fine_tuned_variant_used",
                    arm=label,
                    field=f"{path}.model",
                    message=f"'{entry.id}' is a base model; using its fine-tuned serving prices ('{variant.id}').",
                )
            )
            entry = variant
    return entry


def shutdown_of(entry: ModelEntry, catalog: Catalog) -> date | None:
    """A fine-tuned serving row shuts down no later than its base model."""
    dates = [entry.lifecycle.shutdown] if entry.lifecycle and entry.lifecycle.shutdown else []
    base = catalog.base_of(entry) if entry.kind == "fine_tuned" else None
    if base is not None and base.lifecycle is not None and base.lifecycle.shutdown is not None:
        dates.append(base.lifecycle.shutdown)
    return min(dates) if dates else None


def closure_of(entry: ModelEntry, catalog: Catalog) -> date | None:
    dates = []
    for row in (entry, catalog.base_of(entry) if entry.kind == "fine_tuned" else None):
        if row is not None and row.lifecycle is not None and row.lifecycle.fine_tuning_closes:
            dates.append(row.lifecycle.fine_tuning_closes)
    return min(dates) if dates else None


def prices_on(entry: ModelEntry, when: date, catalog: Catalog) -> dict[str, tuple[float, str]]:
    """The row's token prices in force on `when`, with their source labels.

    Dated changes replace only the prices they name and accumulate in date order; a price a
    negotiated-rate file set is the contract's and no catalog change touches it.
    """
    out: dict[str, tuple[float, str]] = {}
    for key in TOKEN_KEYS:
        value = getattr(entry.prices, key)
        if value is not None:
            out[key] = (value, catalog.price_source(entry.id, f"prices.{key}"))
    for change in entry.price_changes:
        if change.from_ > when:
            break
        for key in TOKEN_KEYS:
            value = getattr(change.prices, key)
            if value is None:
                continue
            if key in out and out[key][1].startswith("negotiated:"):
                continue
            out[key] = (value, f"catalog:{entry.id} (from {change.from_.isoformat()})")
    return out


@dataclass(frozen=True)
class _Regime:
    """An arm's per-query token cost under one set of prices (one model, one date)."""

    model: str | None
    prices: dict[str, PriceUsed]
    parts: tuple[float, float, float, float]
    variable: float


def _token_regime(
    arm: Arm,
    path: str,
    label: str,
    entry: ModelEntry | None,
    in_force: dict[str, tuple[float, str]],
    warnings: list[Warning],
    catalog: Catalog,
) -> _Regime:
    """Effective prices and the per-query token cost. A price in the request always wins."""
    given = arm.prices
    tier: TokenPrices | None = None
    tier_def = entry.long_context if entry is not None else None
    prompt = arm.static_prompt_tokens + arm.dynamic_input_tokens
    if entry is not None and tier_def is not None and prompt > tier_def.threshold_tokens:
        tier = tier_def.prices
        warnings.append(
            Warning(
                code="long_context_tier",
                arm=label,
                message=(
                    f"The prompt ({prompt:,.0f} tokens) is above {entry.id}'s long-context "
                    f"threshold of {tier_def.threshold_tokens:,} tokens: the whole request is "
                    "billed at the long-context prices."
                ),
            )
        )
    prices: dict[str, PriceUsed] = {}
    missing: list[FieldIssue] = []
    for key in TOKEN_KEYS:
        explicit = getattr(given, key)
        if explicit is not None:
            prices[key] = PriceUsed(value=explicit, source="request")
            continue
        if entry is not None:
            value = getattr(tier, key) if tier is not None else None
            if value is not None:
                source = catalog.price_source(entry.id, f"long_context.prices.{key}")
                prices[key] = PriceUsed(value=value, source=f"{source} (long context)")
                continue
            if key in in_force:
                value, source = in_force[key]
                prices[key] = PriceUsed(value=value, source=source)
    if "cache_write" not in prices and "input" in prices:
        # Providers that do not bill cache writes charge a miss as ordinary input.
        prices["cache_write"] = PriceUsed(value=prices["input"].value, source="input price")
    for key in ("input", "output"):
        if key not in prices:
            reason = (
                f"required: {entry.id} has no public {key} price; enter your quote"
                if entry is not None
                else "required: the arm has no catalog model"
            )
            missing.append(FieldIssue(f"{path}.prices.{key}", reason))

    if given.batch_discount is not None:
        discount = given.batch_discount
        prices["batch_discount"] = PriceUsed(value=discount, source="request")
    elif entry is not None:
        discount = entry.batch_discount
        prices["batch_discount"] = PriceUsed(
            value=discount, source=catalog.price_source(entry.id, "batch_discount")
        )
        if arm.batch_share > 0 and discount == 0:
            warnings.append(
                Warning(
                    code="no_batch_api",
                    arm=label,
                    field=f"{path}.batch_share",
                    message=f"{entry.id} has no batch discount in the catalog; the batch share saves nothing.",
                )
            )
    elif arm.batch_share > 0:
        missing.append(
            FieldIssue(
                f"{path}.prices.batch_discount",
                "required when batch_share > 0 and the arm has no catalog model",
            )
        )
        discount = 0.0
    else:
        discount = 0.0

    needs_cache_price = arm.cache_hit_rate > 0 and arm.static_prompt_tokens > 0
    if needs_cache_price and "cached_input" not in prices and entry is None:
        missing.append(
            FieldIssue(
                f"{path}.prices.cached_input",
                "required when cache_hit_rate > 0 and the arm has no catalog model",
            )
        )
    if missing:
        raise ScenarioError(missing)

    h = _effective_hit_rate(arm, path, label, entry, prices, warnings)
    S, D, O = arm.static_prompt_tokens, arm.dynamic_input_tokens, arm.output_tokens
    p_in = prices["input"].value
    p_out = prices["output"].value
    p_read = prices["cached_input"].value if "cached_input" in prices else p_in
    p_write = prices["cache_write"].value
    keep = 1 - arm.batch_share * discount
    parts = (
        S * h * p_read / MTOK * keep,
        S * (1 - h) * p_write / MTOK * keep,
        D * p_in / MTOK * keep,
        O * p_out / MTOK * keep,
    )
    tokens_cost = (S * (h * p_read + (1 - h) * p_write) + D * p_in + O * p_out) / MTOK
    variable = tokens_cost * keep + arm.error_rate * arm.cost_per_error
    model = (
        entry.id
        if entry is not None
        and any(p.source.startswith(("catalog:", "negotiated:")) for p in prices.values())
        else None
    )
    return _Regime(model, prices, parts, variable)


def _effective_hit_rate(
    arm: Arm,
    path: str,
    label: str,
    entry: ModelEntry | None,
    prices: dict[str, PriceUsed],
    warnings: list[Warning],
) -> float:
    h = arm.cache_hit_rate
    if h == 0 or arm.static_prompt_tokens == 0:
        return h
    if "cached_input" not in prices:
        warnings.append(
            Warning(
                code="no_cache_price",
                arm=label,
                field=f"{path}.cache_hit_rate",
                message=f"{entry.id if entry else 'The model'} has no cached-input price; the cache hit rate is treated as 0.",
            )
        )
        return 0.0
    minimum = entry.min_cacheable_tokens if entry is not None else 0
    if minimum > arm.static_prompt_tokens:
        warnings.append(
            Warning(
                code="cache_below_minimum",
                arm=label,
                field=f"{path}.static_prompt_tokens",
                message=(
                    f"The static prompt ({arm.static_prompt_tokens:,.0f} tokens) is shorter than "
                    f"{entry.id if entry else 'the model'}'s minimum cacheable prefix ({minimum:,} tokens): "
                    "no cache discount is applied."
                ),
            )
        )
        return 0.0
    return h


def _training_cost(
    arm: FinetunedArm, path: str, entry: ModelEntry | None, fallback: ModelEntry | None = None
) -> tuple[float, bool]:
    """One training run's cost, and whether a catalog price was used.

    `entry` is the row whose price is tried first (a successor after a shutdown); `fallback`
    the arm's own row, used when `entry` has no price of the kind the arm trains with.
    """
    t = arm.training
    rows = [r for r in (entry, fallback) if r is not None and r.training is not None]
    if t.gpu_hours is not None:
        hourly = t.gpu_hourly_price
        from_catalog = False
        minimum = 0.0
        if hourly is None:
            for row in rows:
                assert row.training is not None
                if row.training.price_per_hour is not None:
                    hourly = row.training.price_per_hour
                    minimum = row.training.minimum_per_job or 0.0
                    from_catalog = True
                    break
        if hourly is None and arm.self_hosted is not None:
            hourly = arm.self_hosted.gpu_hourly_price
        if hourly is None:
            raise ScenarioError(
                [
                    FieldIssue(
                        f"{path}.training.gpu_hourly_price", "required when gpu_hours is given"
                    )
                ]
            )
        return max(t.gpu_hours * hourly, minimum) if t.gpu_hours > 0 else 0.0, from_catalog
    epochs = auto_epochs(t.examples) if t.epochs == "auto" else t.epochs
    tokens = t.examples * t.tokens_per_example * epochs
    if tokens == 0:
        return 0.0, False
    if t.price_per_mtok is not None:
        return tokens / MTOK * t.price_per_mtok, False
    for row in rows:
        assert row.training is not None
        if row.training.price_per_mtok is not None:
            cost = tokens / MTOK * row.training.price_per_mtok
            return max(cost, row.training.minimum_per_job or 0.0), True
    own = rows[-1] if rows else None
    if own is not None and own.training is not None and own.training.price_per_hour is not None:
        raise ScenarioError(
            [
                FieldIssue(
                    f"{path}.training.gpu_hours",
                    f"required: {own.id} bills training by the hour "
                    f"(USD {own.training.price_per_hour}/h), not per token",
                )
            ]
        )
    if own is not None:
        reason = f"required: {own.id} has no public training price; enter your quote"
    elif entry is not None or fallback is not None:
        reason = f"required: '{(entry or fallback).id}' has no training price in the catalog"  # type: ignore[union-attr]
    else:
        reason = "required: give a training price per 1M tokens or gpu_hours"
    raise ScenarioError([FieldIssue(f"{path}.training.price_per_mtok", reason)])


@dataclass(frozen=True)
class _Switch:
    month: int  # the month containing the shutdown date
    shutdown: date
    retiring: ModelEntry
    successor: ModelEntry | None


def _successor(
    arm: Arm, path: str, entry: ModelEntry, catalog: Catalog, first: bool
) -> ModelEntry | None:
    if first and arm.successor is not None:
        return _lookup(catalog, arm.successor, f"{path}.successor")
    life = entry.lifecycle
    if life is not None and life.successor is not None:
        return catalog.get(life.successor)
    return None


def _switches(
    arm: Arm, path: str, entry: ModelEntry, cal: Calendar, catalog: Catalog
) -> list[_Switch]:
    """The shutdowns inside the horizon, each with the row that prices the months after."""
    out: list[_Switch] = []
    current: ModelEntry | None = entry
    after = cal.start
    while current is not None and len(out) < MAX_SUCCESSIONS:
        when = shutdown_of(current, catalog)
        if when is None or when >= cal.end:
            break
        # A successor already shut down when its turn comes is skipped over at once.
        when = max(when, after)
        nxt = _successor(arm, path, current, catalog, first=not out)
        out.append(_Switch(cal.month_containing(when), when, current, nxt))
        current, after = nxt, when
    return out


def resolve_arm(
    arm: Arm,
    role: Role,
    workload: Workload,
    catalog: Catalog,
    cal: Calendar,
    warnings: list[Warning],
    *,
    label: str | None = None,
    path: str | None = None,
) -> ArmCosts:
    """One arm, month by month. `label` names it in warnings and events (the arm or the
    candidate id); `path` prefixes the fields its errors name."""
    label = label or role
    path = path or role
    H = cal.horizon
    follow = workload.lifecycle == "follow"
    entry = _arm_entry(arm, role, path, catalog, warnings, label)
    errors = arm.error_rate * arm.cost_per_error
    ft = arm if isinstance(arm, FinetunedArm) else None

    # Lifecycle: gone before the start, or shutting down inside the horizon.
    switches: list[_Switch] = []
    if entry is not None:
        gone = shutdown_of(entry, catalog)
        if (gone is not None and gone <= cal.start) or (entry.retired and gone is None):
            nxt = _successor(arm, path, entry, catalog, first=True)
            hint = f"; use its successor '{nxt.id}'" if nxt is not None else ""
            when = f" on {gone.isoformat()}" if gone is not None else ""
            raise ScenarioError(
                [
                    FieldIssue(
                        f"{path}.model",
                        f"'{entry.id}' shut down{when}, on or before the start date{hint}",
                        (nxt.id,) if nxt is not None else (),
                    )
                ]
            )
        switches = _switches(arm, path, entry, cal, catalog)

    # Which row prices each month 1..H, and on which date.
    rows: list[ModelEntry | None] = []
    for m in range(1, H + 1):
        row = entry
        if follow:
            for sw in switches:
                if m >= sw.month and sw.successor is not None:
                    row = sw.successor
                elif m >= sw.month:
                    row = sw.retiring  # no successor: a replacement at unchanged prices
        rows.append(row)

    self_hosted: SelfHostedCost | None = None
    regimes: dict[tuple[object, ...], _Regime] = {}
    regime_inputs: list[tuple[ModelEntry | None, dict[str, tuple[float, str]]]] = []
    regime_of: list[int] = []
    variable: list[float] = []
    parts: list[tuple[float, float, float, float]] = []
    models: list[str | None] = []
    events: list[list[MonthEvent]] = [[] for _ in range(H + 1)]
    seen_codes = {w.code for w in warnings if w.arm == label}

    if ft is not None and ft.self_hosted is not None:
        sh = ft.self_hosted
        S, D, O = arm.static_prompt_tokens, arm.dynamic_input_tokens, arm.output_tokens
        self_hosted = SelfHostedCost(
            seconds_per_query=(S + D) / sh.prefill_tokens_per_s + O / sh.decode_tokens_per_s,
            peak_to_average=workload.peak_to_average,
            target_utilization=sh.target_utilization,
            min_replicas=sh.min_replicas,
            replica_monthly_cost=sh.gpus_per_replica * sh.gpu_hourly_price * HOURS_PER_MONTH,
        )
        variable = [errors] * H
        parts = [(0.0, 0.0, 0.0, 0.0)] * H
        models = [None] * H
        month1_prices: dict[str, PriceUsed] = {}
    else:
        # Most arms are priced by one row at one set of prices the whole horizon: price the
        # first month and repeat it, rather than month by month.
        uniform = not (follow and switches) and (
            entry is None or not follow or not any(c.from_ > cal.start for c in entry.price_changes)
        )
        for m, row in enumerate(rows[:1] if uniform else rows, start=1):
            day = cal.firsts[m] if follow else cal.start
            # Which of the row's dated changes are in force: the prices follow from that.
            changes = sum(1 for c in row.price_changes if c.from_ <= day) if row else 0
            key = (row.id if row else None, changes)
            regime = regimes.get(key)
            if regime is None:
                in_force = prices_on(row, day, catalog) if row is not None else {}
                found: list[Warning] = []
                regime = _token_regime(arm, path, label, row, in_force, found, catalog)
                regimes[key] = regime
                regime_inputs.append((row, in_force))
                for w in found:  # each kind of warning once per arm
                    if w.code not in seen_codes:
                        seen_codes.add(w.code)
                        warnings.append(w)
            regime_of.append(list(regimes).index(key))
            variable.append(regime.variable)
            parts.append(regime.parts)
            models.append(regime.model)
            if follow and m >= 2 and row is not None and rows[m - 2] is row:
                prev = cal.firsts[m - 1]
                if any(prev < c.from_ <= cal.firsts[m] for c in row.price_changes):
                    events[m].append(MonthEvent("price_change", label))
        if uniform:
            variable, parts, models, regime_of = variable * H, parts * H, models * H, regime_of * H
        month1_prices = regimes[next(iter(regimes))].prices

    # Fixed costs by month: upkeep plus the hosting fees of the row in force.
    fixed: list[float] = []
    for row in rows:
        per_hour = ft.hosting_per_hour if ft is not None else None
        per_month = ft.hosting_per_month if ft is not None else None
        if per_hour is None:
            per_hour = row.hosting_per_hour if row is not None and ft is not None else 0.0
        if per_month is None:
            per_month = row.hosting_per_month if row is not None and ft is not None else 0.0
        fixed.append(arm.monthly_fixed_cost + per_hour * HOURS_PER_MONTH + per_month)

    # One-time (month 0), retraining and migration.
    one_off = [0.0] * H
    one_time = arm.setup_cost
    retrain_cost, retrain_every = 0.0, 0
    successors_used: list[ModelEntry] = []
    trained_from_catalog = False
    if ft is not None:
        training, trained_from_catalog = _training_cost(ft, path, entry)
        data = ft.training.examples * ft.cost_per_example
        one_time = data + training + ft.evaluation_cost + ft.setup_cost
        retrain_every = ft.retrain_every_months
        extra = ft.new_examples_per_retrain * ft.cost_per_example
        retrain_cost = training + ft.evaluation_cost + extra if retrain_every else 0.0
    for sw in switches if follow else []:
        if sw.successor is not None:
            successors_used.append(sw.successor)
        if arm.migration_cost is not None:
            migration = arm.migration_cost
        elif ft is not None:
            migration = _training_cost(ft, path, sw.successor, entry)[0] + ft.evaluation_cost
        else:
            migration = arm.setup_cost
        one_off[sw.month - 1] += migration
        events[sw.month] += [MonthEvent("shutdown_switch", label), MonthEvent("migration", label)]
    if ft is not None and retrain_every:
        closes = closure_of(entry, catalog) if entry is not None else None
        for m in range(retrain_every, H + 1, retrain_every):
            cost = retrain_cost
            if follow:
                switched = [sw for sw in switches if m >= sw.month]
                if switched:
                    price_row = switched[-1].successor
                    cost = (
                        _training_cost(ft, path, price_row, entry)[0]
                        + ft.evaluation_cost
                        + ft.new_examples_per_retrain * ft.cost_per_example
                    )
            one_off[m - 1] += cost
            events[m].append(MonthEvent("retraining", label))
            if closes is not None and cal.firsts[m] >= closes:
                events[m].append(MonthEvent("retraining_after_closure", label))

    # Lifecycle warnings (given in both modes).
    if entry is not None:
        _lifecycle_warnings(
            arm, role, path, label, entry, switches, follow, one_off, cal, catalog, warnings
        )

    models_all = tuple([models[0] if models else None, *models])
    used = [r for r in (entry, *successors_used) if r is not None]
    catalog_used = any(models_all) or trained_from_catalog
    return ArmCosts(
        name=label,
        role=role,
        variable=tuple(variable),
        fixed=tuple(fixed),
        one_off=tuple(one_off),
        one_time=one_time,
        self_hosted=self_hosted,
        models=models_all,
        events=tuple(tuple(e) for e in events),
        parts=tuple(parts),
        errors=errors,
        prices=month1_prices,
        model=entry.id if entry is not None else None,
        retrain_cost=retrain_cost,
        retrain_every=retrain_every,
        as_of=min(r.oldest_as_of for r in used) if used and catalog_used else None,
        entry=entry,
        rows=tuple(rows),
        regimes=tuple(regime_inputs),
        regime_of=tuple(regime_of),
        switches=tuple((sw.month, sw.successor) for sw in switches) if follow else (),
    )


def _lifecycle_warnings(
    arm: Arm,
    role: Role,
    path: str,
    label: str,
    entry: ModelEntry,
    switches: list[_Switch],
    follow: bool,
    one_off: list[float],
    cal: Calendar,
    catalog: Catalog,
    warnings: list[Warning],
) -> None:
    H = cal.horizon
    for sw in switches:
        migration = one_off[sw.month - 1] if follow else 0.0
        if sw.successor is not None:
            then = (
                f"from then on this arm is priced on {sw.successor.id}, and moving costs {usd(migration)}"
                if follow
                else f"its successor is {sw.successor.id}; lifecycle=ignore keeps today's prices"
            )
        else:
            then = "no successor is known"
        warnings.append(
            Warning(
                code="model_shutdown",
                arm=label,
                field=f"{path}.model",
                message=(
                    f"{sw.retiring.id} shuts down on {sw.shutdown.isoformat()} (month {sw.month} of {H}): {then}."
                ),
            )
        )
        if sw.successor is None:
            warnings.append(
                Warning(
                    code="no_successor",
                    arm=label,
                    field=f"{path}.successor",
                    message=(
                        f"Neither the request nor the catalog names a successor for {sw.retiring.id}: "
                        f"months {sw.month} to {H} assume a replacement at unchanged prices. "
                        f"Name one in {path}.successor."
                    ),
                )
            )
    if role != "finetuned":
        return
    closes = closure_of(entry, catalog)
    if closes is None:
        return
    if closes <= cal.firsts[0]:
        warnings.append(
            Warning(
                code="fine_tuning_closed",
                arm=label,
                field=f"{path}.model",
                message=(
                    f"{entry.id} takes no new fine-tuning jobs from {closes.isoformat()}: the "
                    "initial training cannot be bought there. Choose a route that is still open."
                ),
            )
        )
    assert isinstance(arm, FinetunedArm)
    R = arm.retrain_every_months
    late = [m for m in range(R, H + 1, R) if cal.firsts[m] >= closes] if R else []
    if late:
        months = ", ".join(str(m) for m in late)
        warnings.append(
            Warning(
                code="retraining_after_closure",
                arm=label,
                field=f"{path}.retrain_every_months",
                message=(
                    f"Fine-tuning on {entry.id} closes on {closes.isoformat()}: the plan's retraining "
                    f"in months {months} cannot run there (counted at the same price elsewhere)."
                ),
            )
        )


# --- over time --------------------------------------------------------------------------


def monthly_volumes(q1: float, growth: float, horizon: int) -> list[float]:
    return [q1 * (1 + growth) ** (m - 1) for m in range(1, horizon + 1)]


def arm_timeline(costs: ArmCosts, volumes: Sequence[float]) -> list[MonthCost]:
    ev = costs.events
    rows = [MonthCost(0, 0.0, costs.one_time, costs.one_time, None, costs.models[0], ev[0])]
    cumulative = costs.one_time
    variable, fixed, one_off, models = costs.variable, costs.fixed, costs.one_off, costs.models
    for month, q in enumerate(volumes, start=1):
        hosting, replicas = costs.hosting(q)
        i = month - 1
        cost = q * variable[i] + fixed[i] + hosting + one_off[i]
        cumulative += cost
        rows.append(MonthCost(month, q, cost, cumulative, replicas, models[month], ev[month]))
    return rows


def present_value(monthly: Sequence[MonthCost], rate: float) -> float:
    """Month m's cost counted (1 + r)^(-m/12) times; month 0 in full."""
    if rate == 0:
        return monthly[-1].cumulative
    return math.fsum(row.cost * (1 + rate) ** (-row.month / 12) for row in monthly)


def arm_result(costs: ArmCosts, monthly: list[MonthCost]) -> dict[str, object]:
    """The fields of an `ArmResult` (the two-arm and the candidates results share them)."""
    total = monthly[-1].cumulative
    queries = sum(m.queries for m in monthly)
    per_query: PerQueryBreakdown | None = None
    average: float | None = None
    if queries > 0:
        average = total / queries
        fixed = sum(costs.fixed[m.month - 1] + costs.hosting(m.queries)[0] for m in monthly[1:])
        one_time = costs.one_time + sum(costs.one_off)
        weighted = [
            sum(m.queries * costs.parts[m.month - 1][k] for m in monthly[1:]) / queries
            for k in range(4)
        ]
        per_query = PerQueryBreakdown(
            cached_input=weighted[0],
            cache_write=weighted[1],
            input=weighted[2],
            output=weighted[3],
            errors=costs.errors,
            fixed=fixed / queries,
            one_time=one_time / queries,
        )
    return dict(
        model=costs.model,
        serving="self_hosted" if costs.self_hosted is not None else "per_token",
        prices=costs.prices,
        variable_cost_per_query=costs.variable_cost_per_query,
        one_time_cost=costs.one_time,
        recurring_one_time_cost=costs.retrain_cost,
        monthly_fixed_cost=costs.monthly_fixed,
        total_cost=total,
        total_queries=queries,
        average_cost_per_query=average,
        per_query=per_query,
        monthly=monthly,
    )


# --- break-even -------------------------------------------------------------------------

# Cumulative sums of two arms are built in different orders; a tie in exact arithmetic
# must not become a miss by one ulp.
TIE = 1e-12


def _at_most(a: float, b: float) -> bool:
    return a <= b + TIE * max(abs(a), abs(b), 1.0)


def payback_month(base: list[MonthCost], other: list[MonthCost]) -> int | None:
    for p, f in zip(base, other, strict=True):
        if _at_most(f.cumulative, p.cumulative):
            return p.month
    return None


def volume_root(
    base: ArmCosts,
    other: ArmCosts,
    lo: float = 0.0,
    hi: float = MAX_VOLUME,
    strict: bool = False,
    exact: bool = False,
) -> Root:
    """Smallest constant monthly volume V in [lo, hi] with total_other(V) <= total_base(V)
    (strict: <), solved exactly over replica steps (solve.py). Ties count within rounding
    (TIE) unless `exact`."""
    # Differences month by month, then summed in order (the Monte Carlo kernel sums the same
    # way): the two arms' months share most of their digits, and subtracting sums would
    # cancel them.
    s = sum(o - b for o, b in zip(other.variable, base.variable, strict=True))
    a = (other.one_time - base.one_time) + sum(
        (of + oo) - (bf + bo)
        for of, oo, bf, bo in zip(other.fixed, other.one_off, base.fixed, base.one_off, strict=True)
    )
    if exact:
        thr = -5e-324 if strict else 0.0  # f < 0 is f <= the largest negative float
    else:
        scale = max(abs(base.steady_total(lo)), abs(other.steady_total(lo)), 1.0)
        thr = -TIE * scale if strict else TIE * scale
    return first_root(a, s, other.steps(), base.steps(), lo, hi, thr)


def break_even_volume(base: ArmCosts, other: ArmCosts, horizon: int | None = None) -> float | None:
    """Smallest constant monthly volume V with total_other(V) <= total_base(V); None when no
    V up to 1e12 satisfies it."""
    return volume_root(base, other).volume


def queries_to_recoup(base: ArmCosts, other: ArmCosts, q1: float) -> float | None:
    if q1 == 0:
        return None
    saving = (base.month_cost(q1, 1) - other.month_cost(q1, 1)) / q1
    if saving <= 0:
        return None
    extra = other.one_time - base.one_time
    return 0.0 if extra <= 0 else extra / saving


def pair_break_even(
    base: ArmCosts,
    other: ArmCosts,
    base_rows: list[MonthCost],
    other_rows: list[MonthCost],
    q1: float,
) -> BreakEven:
    """The three break-even figures of `other` against `base` (base in the prompted role)."""
    return BreakEven(
        payback_month=payback_month(base_rows, other_rows),
        monthly_volume=break_even_volume(base, other),
        queries_to_recoup=queries_to_recoup(base, other, q1),
    )


# --- the comparison ---------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """Both arms priced month by month: everything of a comparison that does not depend on the
    volume (`queries_per_month`, `monthly_growth`) or the discount rate."""

    scenario: Scenario
    prompted: ArmCosts
    finetuned: ArmCosts
    warnings: list[Warning]
    start: date
    # What is computed from the arms alone (the volume curve, the volume chart's axes), kept
    # with them: `at_volume` copies share it, so a slider dragged along the volume computes
    # it once (app/api/cache.py keeps resolved arms across requests).
    derived: dict[Hashable, object] = field(default_factory=dict, compare=False, repr=False)

    def at_volume(self, scenario: Scenario) -> Resolved:
        """This resolution for `scenario`, which differs from ours at most in the fields
        `resolve` does not read (see `volume_free_key`)."""
        return replace(self, scenario=scenario)


# The workload fields `resolve` never reads: a scenario that differs only in these resolves
# to the same arms. compare_resolved and curves read them from `Resolved.scenario`.
VOLUME_FIELDS = frozenset({"queries_per_month", "monthly_growth", "discount_rate"})


def volume_free_key(scenario: Scenario) -> str:
    """What `resolve` reads of a scenario, as one string: equal keys resolve equally. Which
    price fields were given counts too (an arm with no model and some prices is priced by
    them, not by the default model)."""
    given = [sorted(arm.prices.model_fields_set) for arm in (scenario.prompted, scenario.finetuned)]
    body = scenario.model_dump_json(exclude={"workload": set(VOLUME_FIELDS)})
    return f"{body}|{given}"


def resolve(scenario: Scenario, catalog: Catalog, today: date | None = None) -> Resolved:
    warnings: list[Warning] = []
    issues: list[FieldIssue] = []
    w = scenario.workload
    start = w.start_date or today or date.today()
    cal = Calendar.of(start, w.horizon_months)
    arms: dict[str, ArmCosts] = {}
    for role in ("prompted", "finetuned"):
        arm: Arm = scenario.prompted if role == "prompted" else scenario.finetuned
        try:
            arms[role] = resolve_arm(arm, role, w, catalog, cal, warnings)
        except ScenarioError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ScenarioError(issues)
    return Resolved(scenario, arms["prompted"], arms["finetuned"], warnings, start)


def compare(
    scenario: Scenario,
    catalog: Catalog,
    *,
    today: date | None = None,
    stale_after_days: int = 120,
) -> Comparison:
    """The one computation behind the page, the embed and the API."""
    today = today or date.today()
    return compare_resolved(
        resolve(scenario, catalog, today), catalog, today=today, stale_after_days=stale_after_days
    )


def stale_warning(
    dates: Sequence[date | None], today: date, stale_after_days: int
) -> tuple[date | None, bool, Warning | None]:
    known = [d for d in dates if d is not None]
    as_of = min(known) if known else None
    stale = as_of is not None and (today - as_of).days > stale_after_days
    if as_of is None or not stale:
        return as_of, False, None
    return (
        as_of,
        True,
        Warning(
            code="stale_prices",
            message=(
                f"Catalog prices are from {as_of.isoformat()}, more than {stale_after_days} "
                "days ago; check them or give your own."
            ),
        ),
    )


def compare_resolved(
    resolved: Resolved, catalog: Catalog, *, today: date, stale_after_days: int
) -> Comparison:
    scenario = resolved.scenario
    w = scenario.workload
    volumes = monthly_volumes(w.queries_per_month, w.monthly_growth, w.horizon_months)
    pr_rows = arm_timeline(resolved.prompted, volumes)
    ft_rows = arm_timeline(resolved.finetuned, volumes)
    prompted = ArmResult(**arm_result(resolved.prompted, pr_rows))
    finetuned = ArmResult(**arm_result(resolved.finetuned, ft_rows))
    break_even = pair_break_even(
        resolved.prompted, resolved.finetuned, pr_rows, ft_rows, w.queries_per_month
    )
    savings = prompted.total_cost - finetuned.total_cost
    pv_pr = present_value(pr_rows, w.discount_rate)
    pv_ft = present_value(ft_rows, w.discount_rate)
    warnings = list(resolved.warnings)
    as_of, stale, warn = stale_warning(
        [resolved.prompted.as_of, resolved.finetuned.as_of], today, stale_after_days
    )
    if warn is not None:
        warnings.append(warn)
    recommendation = recommend(
        resolved, volumes, break_even, savings, prompted.total_cost, warnings, resolved.start
    )
    return Comparison(
        title=scenario.title,
        horizon_months=w.horizon_months,
        prompted=prompted,
        finetuned=finetuned,
        break_even=break_even,
        savings_over_horizon=savings,
        present_value=PresentValue(prompted=pv_pr, finetuned=pv_ft, savings=pv_pr - pv_ft),
        recommendation=recommendation,
        warnings=warnings,
        prices_as_of=as_of,
        prices_stale=stale,
    )


def log_volumes(lo: float, hi: float, points: int) -> list[float]:
    if points == 1:
        return [lo]
    step = (math.log10(hi) - math.log10(lo)) / (points - 1)
    return [10 ** (math.log10(lo) + i * step) for i in range(points)]


def curves(
    resolved: Resolved,
    comparison: Comparison,
    *,
    points: int = 61,
    volume_min: float = 100.0,
    volume_max: float = 1e9,
) -> Curves:
    """Both curves: steady monthly cost against volume, and cumulative cost by month."""
    horizon = resolved.scenario.workload.horizon_months
    key = ("volume_curve", points, volume_min, volume_max)
    volume = cast("list[VolumePoint] | None", resolved.derived.get(key))
    if volume is None:  # the arms alone fix it: computed once per resolution
        volume = resolved.derived[key] = [
            VolumePoint(
                v,
                resolved.prompted.steady_total(v) / horizon,
                resolved.finetuned.steady_total(v) / horizon,
            )
            for v in log_volumes(volume_min, volume_max, points)
        ]
    cumulative = [
        MonthPoint(p.month, p.cumulative, f.cumulative)
        for p, f in zip(comparison.prompted.monthly, comparison.finetuned.monthly, strict=True)
    ]
    return Curves(
        volume=volume,
        cumulative=cumulative,
        break_even_volume=comparison.break_even.monthly_volume,
        payback_month=comparison.break_even.payback_month,
        current_volume=resolved.scenario.workload.queries_per_month,
        events=calendar_events([comparison.prompted.monthly, comparison.finetuned.monthly]),
    )


MARKED = ("price_change", "shutdown_switch", "migration")


def calendar_events(arms: Sequence[Sequence[MonthCost]]) -> list[ChartEvent]:
    """The months the cumulative chart marks: price changes, switches and migrations."""
    out = []
    for monthly in arms:
        for row in monthly:
            if not row.events:  # most months: nothing to look at
                continue
            codes = tuple(dict.fromkeys(e.code for e in row.events if e.code in MARKED))
            if codes:
                arm = next(e.arm for e in row.events if e.code in MARKED)
                out.append(ChartEvent(row.month, arm, codes))
    return sorted(out, key=lambda e: (e.month, e.arm))
