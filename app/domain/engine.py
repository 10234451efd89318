"""The cost model of COST_MODEL.md: `compare(scenario) -> Comparison`.

Two steps. `resolve` turns a scenario plus the catalog into plain numbers per arm (`ArmCosts`),
collecting warnings and rejecting scenarios that miss a price they need. The rest is pure
arithmetic on those numbers, shared by the comparison, the curves, the sensitivity analysis
and (vectorised) the Monte Carlo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from app.domain.comparison import (
    ArmName,
    ArmResult,
    BreakEven,
    Comparison,
    Curves,
    MonthCost,
    MonthPoint,
    PerQueryBreakdown,
    PriceUsed,
    VolumePoint,
    Warning,
)
from app.domain.recommend import lifecycle_warnings, recommend
from app.domain.scenario import (
    DEFAULT_FINETUNED_MODEL,
    DEFAULT_PROMPTED_MODEL,
    MAX_VOLUME,
    Arm,
    FinetunedArm,
    Scenario,
)
from app.pricing.catalog import Catalog
from app.pricing.schema import ModelEntry, TokenPrices

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
MTOK = 1e6


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
        return max(
            self.min_replicas,
            math.ceil(peak_qps * self.seconds_per_query / self.target_utilization),
        )

    @property
    def queries_per_replica(self) -> float:
        """Monthly volume one replica carries at target utilisation (inf with no load)."""
        load = self.peak_to_average * self.seconds_per_query / self.target_utilization
        return math.inf if load == 0 else SECONDS_PER_MONTH / load


@dataclass(frozen=True)
class ArmCosts:
    """One arm reduced to numbers. All USD; token parts per query after the batch discount."""

    name: ArmName
    variable_cost_per_query: float
    cached_input: float
    cache_write: float
    input: float
    output: float
    errors: float
    one_time: float
    monthly_fixed: float
    retrain_cost: float
    retrain_every: int
    self_hosted: SelfHostedCost | None
    model: str | None = None
    prices: dict[str, PriceUsed] = field(default_factory=dict)
    as_of: date | None = None

    def retrain_in(self, month: int) -> float:
        if self.retrain_every > 0 and month % self.retrain_every == 0:
            return self.retrain_cost
        return 0.0

    def hosting(self, queries: float) -> tuple[float, int | None]:
        if self.self_hosted is None:
            return 0.0, None
        n = self.self_hosted.replicas(queries)
        return n * self.self_hosted.replica_monthly_cost, n

    def month_cost(self, queries: float, month: int) -> float:
        return (
            queries * self.variable_cost_per_query
            + self.monthly_fixed
            + self.hosting(queries)[0]
            + self.retrain_in(month)
        )

    def retrain_total(self, horizon: int) -> float:
        return (
            0.0 if self.retrain_every == 0 else (horizon // self.retrain_every) * self.retrain_cost
        )

    def steady_total(self, volume: float, horizon: int) -> float:
        """total_cost with a constant monthly volume (growth 0): the volume curve's basis."""
        return (
            self.one_time
            + horizon * (volume * self.variable_cost_per_query + self.monthly_fixed)
            + horizon * self.hosting(volume)[0]
            + self.retrain_total(horizon)
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
    arm: Arm, name: ArmName, catalog: Catalog, warnings: list[Warning]
) -> ModelEntry | None:
    """The catalog row an arm uses: its `model`, or the default when it gives no prices."""
    self_hosted = isinstance(arm, FinetunedArm) and arm.self_hosted is not None
    model_id = arm.model
    if model_id is None:
        if self_hosted or arm.prices.model_fields_set:
            return None
        model_id = DEFAULT_PROMPTED_MODEL if name == "prompted" else DEFAULT_FINETUNED_MODEL
    entry = _lookup(catalog, model_id, f"{name}.model")
    if name == "finetuned" and entry.training is None:
        variant = catalog.fine_tuned_variant(entry.id)
        if variant is not None:
            warnings.append(
                Warning(
                    code="fine_tuned_variant_used",
                    arm=name,
                    field=f"{name}.model",
                    message=f"'{entry.id}' is a base model; using its fine-tuned serving prices ('{variant.id}').",
                )
            )
            entry = variant
    return entry


def _token_prices(
    arm: Arm, name: ArmName, entry: ModelEntry | None, warnings: list[Warning], catalog: Catalog
) -> tuple[dict[str, PriceUsed], float]:
    """Effective token prices and batch discount. A price in the request always wins."""
    given = arm.prices
    tier: TokenPrices | None = None
    tier_def = entry.long_context if entry is not None else None
    prompt = arm.static_prompt_tokens + arm.dynamic_input_tokens
    if entry is not None and tier_def is not None and prompt > tier_def.threshold_tokens:
        tier = tier_def.prices
        warnings.append(
            Warning(
                code="long_context_tier",
                arm=name,
                message=(
                    f"The prompt ({prompt:,.0f} tokens) is above {entry.id}'s long-context "
                    f"threshold of {tier_def.threshold_tokens:,} tokens: the whole request is "
                    "billed at the long-context prices."
                ),
            )
        )
    prices: dict[str, PriceUsed] = {}
    missing: list[FieldIssue] = []
    for key in ("input", "cached_input", "cache_write", "output"):
        explicit = getattr(given, key)
        if explicit is not None:
            prices[key] = PriceUsed(value=explicit, source="request")
            continue
        if entry is not None:
            # 'catalog:<id>', or 'negotiated:<file>' where a negotiated-rate file set the price.
            value = getattr(tier, key) if tier is not None else None
            if value is not None:
                source = catalog.price_source(entry.id, f"long_context.prices.{key}")
                prices[key] = PriceUsed(value=value, source=f"{source} (long context)")
                continue
            value = getattr(entry.prices, key)
            if value is not None:
                prices[key] = PriceUsed(
                    value=value, source=catalog.price_source(entry.id, f"prices.{key}")
                )
    if "cache_write" not in prices and "input" in prices:
        # Providers that do not bill cache writes charge a miss as ordinary input.
        prices["cache_write"] = PriceUsed(value=prices["input"].value, source="input price")
    for key in ("input", "output"):
        if key not in prices:
            missing.append(
                FieldIssue(f"{name}.prices.{key}", "required: the arm has no catalog model")
            )

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
                    arm=name,
                    field=f"{name}.batch_share",
                    message=f"{entry.id} has no batch discount in the catalog; the batch share saves nothing.",
                )
            )
    elif arm.batch_share > 0:
        missing.append(
            FieldIssue(
                f"{name}.prices.batch_discount",
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
                f"{name}.prices.cached_input",
                "required when cache_hit_rate > 0 and the arm has no catalog model",
            )
        )
    if missing:
        raise ScenarioError(missing)
    return prices, discount


def _effective_hit_rate(
    arm: Arm,
    name: ArmName,
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
                arm=name,
                field=f"{name}.cache_hit_rate",
                message=f"{entry.id if entry else 'The model'} has no cached-input price; the cache hit rate is treated as 0.",
            )
        )
        return 0.0
    minimum = entry.min_cacheable_tokens if entry is not None else 0
    if minimum > arm.static_prompt_tokens:
        warnings.append(
            Warning(
                code="cache_below_minimum",
                arm=name,
                field=f"{name}.static_prompt_tokens",
                message=(
                    f"The static prompt ({arm.static_prompt_tokens:,.0f} tokens) is shorter than "
                    f"{entry.id if entry else 'the model'}'s minimum cacheable prefix ({minimum:,} tokens): "
                    "no cache discount is applied."
                ),
            )
        )
        return 0.0
    return h


def _training_cost(arm: FinetunedArm, entry: ModelEntry | None) -> tuple[float, bool]:
    """Training cost of one run, and whether a catalog price was used."""
    t = arm.training
    if t.gpu_hours is not None:
        hourly = t.gpu_hourly_price
        from_catalog = False
        if hourly is None and entry is not None and entry.training is not None:
            hourly = entry.training.price_per_hour
            from_catalog = hourly is not None
        if hourly is None and arm.self_hosted is not None:
            hourly = arm.self_hosted.gpu_hourly_price
        if hourly is None:
            raise ScenarioError(
                [
                    FieldIssue(
                        "finetuned.training.gpu_hourly_price", "required when gpu_hours is given"
                    )
                ]
            )
        return t.gpu_hours * hourly, from_catalog
    epochs = auto_epochs(t.examples) if t.epochs == "auto" else t.epochs
    tokens = t.examples * t.tokens_per_example * epochs
    if tokens == 0:
        return 0.0, False
    price = t.price_per_mtok
    from_catalog = False
    if price is None and entry is not None and entry.training is not None:
        price = entry.training.price_per_mtok
        from_catalog = True
        if price is None:
            raise ScenarioError(
                [
                    FieldIssue(
                        "finetuned.training.gpu_hours",
                        f"required: {entry.id} bills training by the hour "
                        f"(USD {entry.training.price_per_hour}/h), not per token",
                    )
                ]
            )
    if price is None:
        reason = (
            f"required: '{entry.id}' has no training price in the catalog"
            if entry is not None
            else "required: give a training price per 1M tokens or gpu_hours"
        )
        raise ScenarioError([FieldIssue("finetuned.training.price_per_mtok", reason)])
    return tokens / MTOK * price, from_catalog


def _as_of(entry: ModelEntry) -> date:
    if entry.training is not None and entry.training.as_of is not None:
        return min(entry.as_of, entry.training.as_of)
    return entry.as_of


def resolve_arm(
    scenario: Scenario, name: ArmName, catalog: Catalog, warnings: list[Warning]
) -> ArmCosts:
    arm: Arm = scenario.prompted if name == "prompted" else scenario.finetuned
    entry = _arm_entry(arm, name, catalog, warnings)
    S, D, O = arm.static_prompt_tokens, arm.dynamic_input_tokens, arm.output_tokens
    errors = arm.error_rate * arm.cost_per_error
    self_hosted: SelfHostedCost | None = None
    one_time = arm.setup_cost
    monthly_fixed = arm.monthly_fixed_cost
    retrain_cost, retrain_every = 0.0, 0
    catalog_used = False

    if isinstance(arm, FinetunedArm) and arm.self_hosted is not None:
        sh = arm.self_hosted
        prices: dict[str, PriceUsed] = {}
        cached = write = inp = out = 0.0
        self_hosted = SelfHostedCost(
            seconds_per_query=(S + D) / sh.prefill_tokens_per_s + O / sh.decode_tokens_per_s,
            peak_to_average=scenario.workload.peak_to_average,
            target_utilization=sh.target_utilization,
            min_replicas=sh.min_replicas,
            replica_monthly_cost=sh.gpus_per_replica * sh.gpu_hourly_price * HOURS_PER_MONTH,
        )
    else:
        prices, discount = _token_prices(arm, name, entry, warnings, catalog)
        h = _effective_hit_rate(arm, name, entry, prices, warnings)
        p_in = prices["input"].value
        p_out = prices["output"].value
        p_read = prices["cached_input"].value if "cached_input" in prices else p_in
        p_write = prices["cache_write"].value
        keep = 1 - arm.batch_share * discount
        cached = S * h * p_read / MTOK * keep
        write = S * (1 - h) * p_write / MTOK * keep
        inp = D * p_in / MTOK * keep
        out = O * p_out / MTOK * keep
        tokens_cost = (S * (h * p_read + (1 - h) * p_write) + D * p_in + O * p_out) / MTOK
        variable = tokens_cost * keep + errors
        catalog_used = any(
            p.source.startswith(("catalog:", "negotiated:")) for p in prices.values()
        )

    if isinstance(arm, FinetunedArm):
        training, trained_from_catalog = _training_cost(arm, entry)
        catalog_used = catalog_used or trained_from_catalog
        data = arm.training.examples * arm.cost_per_example
        one_time = data + training + arm.evaluation_cost + arm.setup_cost
        monthly_fixed = arm.monthly_fixed_cost + arm.hosting_per_hour * HOURS_PER_MONTH
        retrain_every = arm.retrain_every_months
        if retrain_every:
            retrain_cost = (
                training + arm.evaluation_cost + arm.new_examples_per_retrain * arm.cost_per_example
            )
    if self_hosted is not None:
        variable = errors

    return ArmCosts(
        name=name,
        variable_cost_per_query=variable,
        cached_input=cached,
        cache_write=write,
        input=inp,
        output=out,
        errors=errors,
        one_time=one_time,
        monthly_fixed=monthly_fixed,
        retrain_cost=retrain_cost,
        retrain_every=retrain_every,
        self_hosted=self_hosted,
        model=entry.id if entry is not None else None,
        prices=prices,
        as_of=_as_of(entry) if entry is not None and catalog_used else None,
    )


# --- over time --------------------------------------------------------------------------


def monthly_volumes(q1: float, growth: float, horizon: int) -> list[float]:
    return [q1 * (1 + growth) ** (m - 1) for m in range(1, horizon + 1)]


def arm_timeline(costs: ArmCosts, volumes: Sequence[float]) -> list[MonthCost]:
    rows = [MonthCost(0, 0.0, costs.one_time, costs.one_time, None)]
    cumulative = costs.one_time
    for month, q in enumerate(volumes, start=1):
        hosting, replicas = costs.hosting(q)
        cost = (
            q * costs.variable_cost_per_query
            + costs.monthly_fixed
            + hosting
            + costs.retrain_in(month)
        )
        cumulative += cost
        rows.append(MonthCost(month, q, cost, cumulative, replicas))
    return rows


def _arm_result(costs: ArmCosts, monthly: list[MonthCost]) -> ArmResult:
    total = monthly[-1].cumulative
    queries = sum(m.queries for m in monthly)
    per_query: PerQueryBreakdown | None = None
    average: float | None = None
    if queries > 0:
        average = total / queries
        fixed = sum(costs.monthly_fixed + costs.hosting(m.queries)[0] for m in monthly[1:])
        one_time = costs.one_time + sum(costs.retrain_in(m.month) for m in monthly[1:])
        per_query = PerQueryBreakdown(
            cached_input=costs.cached_input,
            cache_write=costs.cache_write,
            input=costs.input,
            output=costs.output,
            errors=costs.errors,
            fixed=fixed / queries,
            one_time=one_time / queries,
        )
    return ArmResult(
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

# Cumulative sums of the two arms are built in different orders; a tie in exact arithmetic
# must not become a miss by one ulp.
TIE = 1e-12


def _at_most(a: float, b: float) -> bool:
    return a <= b + TIE * max(abs(a), abs(b), 1.0)


def payback_month(prompted: list[MonthCost], finetuned: list[MonthCost]) -> int | None:
    for p, f in zip(prompted, finetuned, strict=True):
        if _at_most(f.cumulative, p.cumulative):
            return p.month
    return None


def break_even_volume(pr: ArmCosts, ft: ArmCosts, horizon: int) -> float | None:
    """Smallest constant monthly volume V with total_ft(V) <= total_pr(V), solved exactly.

    f(V) = total_ft(V) - total_pr(V) = A + s*V + H*K*r(V): linear with per-token serving;
    with self-hosted GPUs r(V) is the replica count, a step function, and each step is linear.
    """
    H = horizon
    base_ft = ft.one_time + H * ft.monthly_fixed + ft.retrain_total(H)
    base_pr = pr.one_time + H * pr.monthly_fixed + pr.retrain_total(H)
    a = base_ft - base_pr
    s = H * (ft.variable_cost_per_query - pr.variable_cost_per_query)
    if ft.self_hosted is None and pr.self_hosted is None:
        return _linear_root(a, s, 0.0, MAX_VOLUME)
    sh = ft.self_hosted
    assert sh is not None and pr.self_hosted is None
    k_cost = H * sh.replica_monthly_cost
    per_replica = sh.queries_per_replica  # step width: replicas grow by one every this much
    # Region 0: the floor of min_replicas covers [0, min_replicas * per_replica].
    first_end = min(MAX_VOLUME, sh.min_replicas * per_replica)
    root = _linear_root(a + k_cost * sh.min_replicas, s, 0.0, first_end)
    if root is not None or math.isinf(per_replica) or first_end >= MAX_VOLUME:
        return root
    # Step n (> min_replicas) covers ((n-1)*w, n*w] with n replicas. Each step starts above
    # where the last ended (one more replica), so a root lies inside a step, never at its left
    # edge. Step ends lie on a line in n: e(n) = a + n*(k_cost + s*w).
    w = per_replica
    slope = k_cost + s * w
    if s >= 0 or slope >= 0:
        return None  # the difference never falls below its value at the end of region 0
    n0 = sh.min_replicas + 1
    n = max(n0, math.ceil(-a / slope))
    while n > n0 and a + (n - 1) * slope <= 0:
        n -= 1
    while a + n * slope > 0:
        n += 1
    lo, hi = (n - 1) * w, n * w
    if lo >= MAX_VOLUME:
        return None
    v = -(a + k_cost * n) / s
    # Guard against rounding at the step's edges: the root is in (lo, hi].
    v = min(max(v, math.nextafter(lo, math.inf)), hi)
    return v if v <= MAX_VOLUME else None


def _linear_root(a: float, s: float, lo: float, hi: float) -> float | None:
    """Smallest V in [lo, hi] with a + s*V <= 0, else None."""
    if _at_most(a + s * lo, 0.0):
        return lo
    if s >= 0:
        return None
    v = -a / s
    return v if v <= hi else None


def queries_to_recoup(pr: ArmCosts, ft: ArmCosts, q1: float) -> float | None:
    if q1 == 0:
        return None
    saving = (pr.month_cost(q1, 1) - ft.month_cost(q1, 1)) / q1
    if saving <= 0:
        return None
    extra = ft.one_time - pr.one_time
    return 0.0 if extra <= 0 else extra / saving


# --- the comparison ---------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    scenario: Scenario
    prompted: ArmCosts
    finetuned: ArmCosts
    warnings: list[Warning]


def resolve(scenario: Scenario, catalog: Catalog) -> Resolved:
    warnings: list[Warning] = []
    issues: list[FieldIssue] = []
    arms: dict[str, ArmCosts] = {}
    for name in ("prompted", "finetuned"):
        try:
            arms[name] = resolve_arm(scenario, name, catalog, warnings)
        except ScenarioError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ScenarioError(issues)
    return Resolved(scenario, arms["prompted"], arms["finetuned"], warnings)


def compare(
    scenario: Scenario,
    catalog: Catalog,
    *,
    today: date | None = None,
    stale_after_days: int = 120,
) -> Comparison:
    """The one computation behind the page, the embed and the API."""
    return compare_resolved(
        resolve(scenario, catalog),
        catalog,
        today=today or date.today(),
        stale_after_days=stale_after_days,
    )


def compare_resolved(
    resolved: Resolved, catalog: Catalog, *, today: date, stale_after_days: int
) -> Comparison:
    scenario = resolved.scenario
    w = scenario.workload
    volumes = monthly_volumes(w.queries_per_month, w.monthly_growth, w.horizon_months)
    pr_rows = arm_timeline(resolved.prompted, volumes)
    ft_rows = arm_timeline(resolved.finetuned, volumes)
    prompted = _arm_result(resolved.prompted, pr_rows)
    finetuned = _arm_result(resolved.finetuned, ft_rows)
    break_even = BreakEven(
        payback_month=payback_month(pr_rows, ft_rows),
        monthly_volume=break_even_volume(resolved.prompted, resolved.finetuned, w.horizon_months),
        queries_to_recoup=queries_to_recoup(
            resolved.prompted, resolved.finetuned, w.queries_per_month
        ),
    )
    savings = prompted.total_cost - finetuned.total_cost
    warnings = list(resolved.warnings)
    start = w.start_date or today
    warnings.extend(lifecycle_warnings(resolved, catalog, start))
    dates = [d for d in (resolved.prompted.as_of, resolved.finetuned.as_of) if d is not None]
    as_of = min(dates) if dates else None
    stale = as_of is not None and (today - as_of).days > stale_after_days
    if as_of is not None and stale:
        warnings.append(
            Warning(
                code="stale_prices",
                message=(
                    f"Catalog prices are from {as_of.isoformat()}, more than {stale_after_days} "
                    "days ago; check them or give your own."
                ),
            )
        )
    recommendation = recommend(
        resolved, volumes, break_even, savings, prompted.total_cost, warnings, start
    )
    return Comparison(
        title=scenario.title,
        horizon_months=w.horizon_months,
        prompted=prompted,
        finetuned=finetuned,
        break_even=break_even,
        savings_over_horizon=savings,
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
    volume = [
        VolumePoint(
            v,
            resolved.prompted.steady_total(v, horizon) / horizon,
            resolved.finetuned.steady_total(v, horizon) / horizon,
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
    )
