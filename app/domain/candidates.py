"""Several candidates at once (COST_MODEL.md, "Several candidates, and hybrids").

Each candidate is costed into the same `ArmCosts` the two-arm comparison uses (a hybrid is
the composition of two of them), and every figure against the baseline is the two-arm
definition with the baseline in the prompted role: `compare` is the special case
[prompted, finetuned] with the prompted arm as baseline.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Annotated, Literal, cast

from pydantic import BaseModel, Field

from app.domain.calendar import Calendar
from app.domain.comparison import (
    ArmResult,
    BreakEven,
    MonthCost,
    Recommendation,
    Warning,
)
from app.domain.engine import (
    VOLUME_FIELDS,
    ArmCosts,
    FieldIssue,
    ScenarioError,
    arm_result,
    arm_timeline,
    log_volumes,
    monthly_volumes,
    pair_break_even,
    present_value,
    resolve_arm,
    stale_warning,
    volume_root,
)
from app.domain.scenario import (
    MAX_VOLUME,
    Factors,
    FinetunedArm,
    PromptedArm,
    Rate,
    Workload,
    _Input,
)
from app.pricing.catalog import Catalog

MAX_CANDIDATES = 8
MAX_SEGMENTS = 1_000  # of the cheapest-by-volume envelope; more is a sawtooth, not a decision
CandidateId = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9_-]{1,32}$",
        description="Names the candidate in results, field paths and hybrids ([a-z0-9_-], at most 32)",
    ),
]


class PromptedCandidate(PromptedArm):
    id: CandidateId
    kind: Literal["prompted"] = Field(description="A general model steered by a long prompt")


class FinetunedCandidate(FinetunedArm):
    id: CandidateId
    kind: Literal["finetuned"] = Field(
        description="A fine-tuned model, served per token or on self-hosted GPUs"
    )


class HybridCandidate(_Input):
    id: CandidateId
    kind: Literal["hybrid"] = Field(
        description="Fine-tune for the core, prompt for the edge cases: routes a share of every month's queries to `core`"
    )
    core: str = Field(max_length=32, description="Id of a finetuned candidate of the list")
    fallback: str = Field(max_length=32, description="Id of a prompted candidate of the list")
    core_share: Rate = Field(
        default=0.8, description="Share of every month's queries the core serves (0..1)"
    )


Candidate = Annotated[
    PromptedCandidate | FinetunedCandidate | HybridCandidate, Field(discriminator="kind")
]


class CandidatesScenario(_Input):
    workload: Workload = Field(default_factory=Workload)
    factors: Factors = Field(default_factory=Factors)
    title: str | None = Field(default=None, max_length=200, description="A name for the scenario")
    baseline: str | None = Field(
        default=None,
        max_length=32,
        description="Id of the candidate everything is compared with (default: the first)",
    )
    candidates: list[Candidate] = Field(min_length=2, max_length=MAX_CANDIDATES)


# --- results ----------------------------------------------------------------------------


class VsBaseline(BaseModel):
    savings_over_horizon: float = Field(
        description="Baseline total minus this candidate's (positive: this candidate saves)"
    )
    payback_month: int | None = Field(
        description="First month whose cumulative cost is at most the baseline's"
    )
    monthly_volume: float | None = Field(
        description="Smallest constant monthly volume from which this candidate costs no more than the baseline over the horizon"
    )
    queries_to_recoup: float | None = Field(
        description="Extra one-time investment over the baseline divided by the month-1 saving per query"
    )


class CandidateResult(ArmResult):
    id: str
    kind: Literal["prompted", "finetuned", "hybrid"]
    present_value: float = Field(description="Total with each month discounted (discount_rate)")
    vs_baseline: VsBaseline


class Segment(BaseModel):
    from_volume: float
    to_volume: float
    candidate: str = Field(description="Id of the cheapest candidate over this volume range")


class CandidatesComparison(BaseModel):
    title: str | None = None
    horizon_months: int
    baseline: str
    candidates: list[CandidateResult]
    ranking: list[str] = Field(
        description="Ids by total cost, cheapest first (ties keep list order)"
    )
    cheapest_by_volume: list[Segment] = Field(
        description="Lower envelope of the constant-volume totals over 0..1e12 queries a month"
    )
    recommendation: Recommendation
    warnings: list[Warning]
    prices_as_of: date | None
    prices_stale: bool


@dataclass(slots=True)
class CandidatePoint:
    volume: float
    costs: list[float]  # steady monthly cost per candidate, in list order
    cheapest: str


class CandidateCurves(BaseModel):
    ids: list[str]
    volume: list[CandidatePoint] = Field(
        description="Steady monthly cost of each candidate (one-time costs spread) by constant monthly volume"
    )
    cumulative: list[list[float]] = Field(
        description="Cumulative USD by month 0..H, one list per candidate in list order"
    )
    cheapest_by_volume: list[Segment]
    current_volume: float


# --- costing ----------------------------------------------------------------------------


def check(scenario: CandidatesScenario) -> list[FieldIssue]:
    """Cross-field rules pydantic cannot see: unique ids, hybrid members, the baseline."""
    issues: list[FieldIssue] = []
    first_at: dict[str, int] = {}
    for i, c in enumerate(scenario.candidates):
        if c.id in first_at:
            issues.append(
                FieldIssue(
                    f"candidates.{i}.id", f"duplicate id '{c.id}' (candidates.{first_at[c.id]})"
                )
            )
        else:
            first_at[c.id] = i
    kinds = {c.id: c.kind for c in scenario.candidates}
    for i, c in enumerate(scenario.candidates):
        if not isinstance(c, HybridCandidate):
            continue
        for name, want in (("core", "finetuned"), ("fallback", "prompted")):
            ref = getattr(c, name)
            if ref not in kinds:
                issues.append(FieldIssue(f"candidates.{i}.{name}", f"no candidate has id '{ref}'"))
            elif kinds[ref] != want:
                issues.append(
                    FieldIssue(
                        f"candidates.{i}.{name}",
                        f"'{ref}' is a {kinds[ref]} candidate; the {name} must be a {want} one",
                    )
                )
    if scenario.baseline is not None and scenario.baseline not in kinds:
        issues.append(FieldIssue("baseline", f"no candidate has id '{scenario.baseline}'"))
    return issues


def hybrid(core: ArmCosts, fallback: ArmCosts, share: float, name: str) -> ArmCosts:
    """`share` of every month's queries to `core`, the rest to `fallback`; both members'
    fixed, one-time, migration and retraining costs; a self-hosted core sized for its share."""
    s, r = share, 1 - share
    events = tuple(a + b for a, b in zip(core.events, fallback.events, strict=True))
    dates = [d for d in (core.as_of, fallback.as_of) if d is not None]
    return ArmCosts(
        name=name,
        role="hybrid",
        variable=tuple(
            s * c + r * f for c, f in zip(core.variable, fallback.variable, strict=True)
        ),
        fixed=tuple(c + f for c, f in zip(core.fixed, fallback.fixed, strict=True)),
        one_off=tuple(c + f for c, f in zip(core.one_off, fallback.one_off, strict=True)),
        one_time=core.one_time + fallback.one_time,
        self_hosted=core.self_hosted,
        models=tuple(None for _ in core.models),
        events=events,
        parts=tuple(
            tuple(s * a + r * b for a, b in zip(pc, pf, strict=True))  # type: ignore[misc]
            for pc, pf in zip(core.parts, fallback.parts, strict=True)
        ),
        errors=s * core.errors + r * fallback.errors,
        prices={},
        model=None,
        retrain_cost=core.retrain_cost,
        retrain_every=core.retrain_every,
        as_of=min(dates) if dates else None,
        share=s * core.share,
    )


@dataclass(frozen=True)
class Costed:
    """Every candidate priced month by month: all that does not depend on the volume, the
    growth or the discount rate (see `volume_free_key`)."""

    scenario: CandidatesScenario
    units: list[ArmCosts]  # in list order
    warnings: list[Warning]
    start: date
    # What the units alone decide (the envelope, the volume curve), shared by `at_volume`
    # copies, as Resolved.derived is for two arms.
    derived: dict[Hashable, object] = field(default_factory=dict, compare=False, repr=False)

    def at_volume(self, scenario: CandidatesScenario) -> Costed:
        return replace(self, scenario=scenario)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.scenario.candidates]

    @property
    def baseline_index(self) -> int:
        b = self.scenario.baseline
        return 0 if b is None else self.ids.index(b)


def volume_free_key(scenario: CandidatesScenario) -> str:
    """What `cost` reads of a scenario, as one string (engine.volume_free_key for two arms):
    everything but the workload's VOLUME_FIELDS, with which price fields each card gave."""
    given = [
        sorted(c.prices.model_fields_set) if not isinstance(c, HybridCandidate) else []
        for c in scenario.candidates
    ]
    body = scenario.model_dump_json(exclude={"workload": set(VOLUME_FIELDS)})
    return f"{body}|{given}"


def cost(scenario: CandidatesScenario, catalog: Catalog, today: date | None = None) -> Costed:
    """Every candidate as month arrays, in list order."""
    issues = check(scenario)
    if issues:
        raise ScenarioError(issues)
    w = scenario.workload
    start = w.start_date or today or date.today()
    cal = Calendar.of(start, w.horizon_months)
    warnings: list[Warning] = []
    units: dict[str, ArmCosts] = {}
    for i, c in enumerate(scenario.candidates):
        if isinstance(c, HybridCandidate):
            continue
        role: Literal["prompted", "finetuned"] = "prompted" if c.kind == "prompted" else "finetuned"
        try:
            units[c.id] = resolve_arm(
                c, role, w, catalog, cal, warnings, label=c.id, path=f"candidates.{i}"
            )
        except ScenarioError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ScenarioError(issues)
    for c in scenario.candidates:
        if isinstance(c, HybridCandidate):
            units[c.id] = hybrid(units[c.core], units[c.fallback], c.core_share, c.id)
    return Costed(scenario, [units[c.id] for c in scenario.candidates], warnings, start)


# --- the envelope -----------------------------------------------------------------------


def cheapest_at(units: list[ArmCosts], volume: float) -> int:
    """Index of the cheapest constant-volume total at `volume`; a tie goes to the earlier."""
    totals = [u.steady_total(volume) for u in units]
    return min(range(len(units)), key=lambda i: (totals[i], i))


def envelope(
    units: list[ArmCosts], ids: list[str], hi: float = MAX_VOLUME
) -> tuple[list[Segment], bool]:
    """The lower envelope of the constant-volume totals over [0, hi], as segments; and
    whether it is complete (False: cut at MAX_SEGMENTS, the rest given as one segment).

    A sweep: from each boundary, the next is the first volume where another candidate gets
    strictly cheaper than the current one (or equal, for one earlier in the list), each found
    exactly by the same solver as the break-even volume.
    """
    x = 0.0
    cur = cheapest_at(units, 0.0)
    segments: list[Segment] = []
    for step in range(MAX_SEGMENTS):
        # Just past the boundary: the candidate overtaken there ties with the new one within
        # rounding, and must not win back a zero-width range.
        lo = x * (1 + 1e-12) + 1e-300 if step else 0.0
        best: tuple[float, int] | None = None
        for j, unit in enumerate(units):
            if j != cur:
                v = volume_root(units[cur], unit, lo=lo, hi=hi, strict=j > cur, exact=True).volume
                if v is not None and (best is None or (v, j) < best):
                    best = (v, j)
        if best is None:
            segments.append(Segment(from_volume=x, to_volume=hi, candidate=ids[cur]))
            return segments, True
        v, j = best
        if v > x:  # a tie at a single volume (0, say) is no range of its own
            segments.append(Segment(from_volume=x, to_volume=v, candidate=ids[cur]))
        x, cur = v, j
    segments.append(Segment(from_volume=x, to_volume=hi, candidate=ids[cheapest_at(units, hi)]))
    return segments, False


# --- the comparison ---------------------------------------------------------------------


def compare_candidates(
    scenario: CandidatesScenario,
    catalog: Catalog,
    *,
    today: date | None = None,
    stale_after_days: int = 120,
) -> CandidatesComparison:
    today = today or date.today()
    return compare_costed(
        cost(scenario, catalog, today), today=today, stale_after_days=stale_after_days
    )


def timelines(costed: Costed) -> list[list[MonthCost]]:
    w = costed.scenario.workload
    volumes = monthly_volumes(w.queries_per_month, w.monthly_growth, w.horizon_months)
    return [arm_timeline(u, volumes) for u in costed.units]


def compare_costed(costed: Costed, *, today: date, stale_after_days: int) -> CandidatesComparison:
    from app.domain.recommend import recommend_candidates

    scenario = costed.scenario
    w = scenario.workload
    ids = costed.ids
    b = costed.baseline_index
    rows = timelines(costed)
    base, base_rows = costed.units[b], rows[b]
    results: list[CandidateResult] = []
    figures: list[BreakEven] = []
    for c, unit, monthly in zip(scenario.candidates, costed.units, rows, strict=True):
        be = pair_break_even(base, unit, base_rows, monthly, w.queries_per_month)
        figures.append(be)
        results.append(
            CandidateResult(
                id=c.id,
                kind=c.kind,
                present_value=present_value(monthly, w.discount_rate),
                vs_baseline=VsBaseline(
                    savings_over_horizon=base_rows[-1].cumulative - monthly[-1].cumulative,
                    payback_month=be.payback_month,
                    monthly_volume=be.monthly_volume,
                    queries_to_recoup=be.queries_to_recoup,
                ),
                **arm_result(unit, monthly),
            )
        )
    ranking = [ids[i] for i in sorted(range(len(ids)), key=lambda i: (results[i].total_cost, i))]
    kept = costed.derived.get("envelope")
    if kept is None:  # the units alone decide it: once per costing
        kept = costed.derived["envelope"] = envelope(costed.units, ids)
    segments, complete = cast("tuple[list[Segment], bool]", kept)
    warnings = list(costed.warnings)
    if not complete:
        warnings.append(
            Warning(
                code="envelope_truncated",
                message=(
                    f"The cheapest candidate changes more than {MAX_SEGMENTS} times over volume "
                    "(replica steps against a per-token price); the last range is summarised."
                ),
            )
        )
    as_of, stale, warn = stale_warning([u.as_of for u in costed.units], today, stale_after_days)
    if warn is not None:
        warnings.append(warn)
    recommendation = recommend_candidates(costed, results, ranking, segments, warnings)
    return CandidatesComparison(
        title=scenario.title,
        horizon_months=w.horizon_months,
        baseline=ids[b],
        candidates=results,
        ranking=ranking,
        cheapest_by_volume=segments,
        recommendation=recommendation,
        warnings=warnings,
        prices_as_of=as_of,
        prices_stale=stale,
    )


def candidate_curves(
    costed: Costed,
    comparison: CandidatesComparison,
    *,
    points: int = 61,
    volume_min: float = 100.0,
    volume_max: float = 1e9,
) -> CandidateCurves:
    H = costed.scenario.workload.horizon_months
    ids = costed.ids
    key = ("volume_curve", points, volume_min, volume_max)
    volume = cast("list[CandidatePoint] | None", costed.derived.get(key))
    if volume is None:
        volume = []
        costed.derived[key] = volume
        for v in log_volumes(volume_min, volume_max, points):
            totals = [u.steady_total(v) for u in costed.units]
            best = min(range(len(ids)), key=lambda i: (totals[i], i))
            volume.append(CandidatePoint(v, [t / H for t in totals], ids[best]))
    return CandidateCurves(
        ids=ids,
        volume=volume,
        cumulative=[[m.cumulative for m in c.monthly] for c in comparison.candidates],
        cheapest_by_volume=comparison.cheapest_by_volume,
        current_volume=costed.scenario.workload.queries_per_month,
    )
