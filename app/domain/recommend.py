"""The recommendation and the lifecycle warnings.

Cost decides first; the decision factors (DECISION_FRAMEWORK.md) qualify it. Every reason
names the inputs that drove it, so a reader can see what to change to change the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from app.domain.comparison import Approach, BreakEven, Reason, Recommendation, Warning
from app.domain.formatting import count, usd
from app.domain.scenario import Factors

if TYPE_CHECKING:
    from app.domain.candidates import CandidateResult, Costed, Segment
    from app.domain.engine import Resolved

LONG_PROMPT_TOKENS = 2000  # "a prompt of thousands of tokens"
LIFECYCLE_CODES = (
    "model_shutdown",
    "no_successor",
    "fine_tuning_closed",
    "retraining_after_closure",
)


def factor_reasons(f: Factors) -> list[Reason]:
    """The decision factors' reasons, whatever the costs (DECISION_FRAMEWORK.md)."""
    out = []
    if f.requirements_volatility == "high":
        out.append(
            Reason(
                code="requirements_change_often",
                text="Requirements change often: a prompt changes in minutes, a fine-tuned model locks behaviour in until the next training run.",
                fields=["factors.requirements_volatility"],
            )
        )
    if f.strict_format:
        out.append(
            Reason(
                code="strict_format",
                text="A strict output format is learnt more reliably by fine-tuning than asked for in a prompt.",
                fields=["factors.strict_format"],
            )
        )
    if f.specialised_domain:
        out.append(
            Reason(
                code="specialised_domain",
                text="A specialised vocabulary favours fine-tuning.",
                fields=["factors.specialised_domain"],
            )
        )
    return out


def _crossing_month(volumes: Sequence[float], volume: float | None) -> int | None:
    """First month whose volume reaches the break-even volume, if month 1 is below it."""
    if volume is None or not volumes or volumes[0] >= volume:
        return None
    for m, q in enumerate(volumes, start=1):
        if q >= volume:
            return m
    return None


def recommend(
    resolved: Resolved,
    volumes: Sequence[float],
    break_even: BreakEven,
    savings: float,
    prompted_total: float,
    warnings: Sequence[Warning],
    start: date,
) -> Recommendation:
    s = resolved.scenario
    pr, ft = resolved.prompted, resolved.finetuned
    f = s.factors
    H = s.workload.horizon_months
    reasons: list[Reason] = []
    scale_fields = ["workload.queries_per_month", "workload.horizon_months"]

    def add(code: str, text: str, *fields: str) -> None:
        reasons.append(Reason(code=code, text=text, fields=list(fields)))

    cheaper = savings > 0
    total_pr = max(abs(prompted_total), 1e-12)
    if cheaper:
        add(
            "fine_tuning_cheaper",
            f"Over {H} months fine-tuning costs {usd(savings)} less than prompting "
            f"({savings / total_pr:.0%} of the prompted total).",
            *scale_fields,
        )
    else:
        add(
            "prompting_cheaper",
            f"Over {H} months fine-tuning costs {usd(-savings)} more than prompting, so cost does not justify it."
            if savings < 0
            else f"Over {H} months both approaches cost the same.",
            *scale_fields,
        )
    if break_even.payback_month is not None and break_even.payback_month > 0:
        add(
            "payback",
            f"The fine-tuning investment pays back in month {break_even.payback_month}.",
            "finetuned.setup_cost",
            "finetuned.training.examples",
            "finetuned.cost_per_example",
        )
    V = break_even.monthly_volume
    q1 = s.workload.queries_per_month
    if V is not None and V > 0:
        add(
            "break_even_volume",
            f"Fine-tuning breaks even from {count(V)} queries a month; you run {count(q1)} now.",
            "workload.queries_per_month",
        )
    elif V is None:
        add(
            "no_break_even_volume",
            "Fine-tuning does not break even at any monthly volume: its cost per query is not lower than prompting's.",
            "prompted.static_prompt_tokens",
            "finetuned.static_prompt_tokens",
        )

    per_query_gap = pr.variable_cost_per_query - ft.variable_cost_per_query
    if pr.errors > ft.errors:
        add(
            "fewer_errors",
            f"Fewer errors save {usd(pr.errors - ft.errors)} per query with the fine-tuned model.",
            "prompted.error_rate",
            "finetuned.error_rate",
            "prompted.cost_per_error",
            "finetuned.cost_per_error",
        )
    elif ft.errors > pr.errors:
        add(
            "more_errors",
            f"The fine-tuned model's errors cost {usd(ft.errors - pr.errors)} more per query.",
            "prompted.error_rate",
            "finetuned.error_rate",
        )

    examples = s.finetuned.training.examples
    too_few = examples < f.min_examples
    if too_few:
        add(
            "too_few_examples",
            f"{count(examples)} training examples is below {count(f.min_examples)}: a fine-tune "
            "on so few tends to overfit. Collect data first (prompted traffic is a good source).",
            "finetuned.training.examples",
            "factors.min_examples",
        )
    volatile = f.requirements_volatility == "high"
    reasons.extend(factor_reasons(f))
    if s.prompted.static_prompt_tokens >= LONG_PROMPT_TOKENS:
        add(
            "long_prompt",
            f"The prompt carries {count(s.prompted.static_prompt_tokens)} tokens of instructions and "
            "examples on every request; fine-tuning moves them into the weights.",
            "prompted.static_prompt_tokens",
        )
    closed = False
    for w in warnings:
        if w.code in LIFECYCLE_CODES:
            add("lifecycle", w.message, w.field or f"{w.arm}.model")
        closed = closed or (w.code == "fine_tuning_closed" and w.arm == "finetuned")

    crossing = _crossing_month(volumes, V)
    approach: Approach
    if closed:
        # The route cannot sell the initial training: whatever the cost, do not advise it.
        approach = "prompt_engineering"
        headline = (
            f"Keep prompting: fine-tuning on {ft.model} is closed to new jobs; "
            "price a route that is still open."
        )
    elif crossing is not None:
        # COST_MODEL.md's rule: below the break-even volume now, above it within the horizon.
        approach = "prompt_then_fine_tune"
        assert V is not None
        headline = (
            f"Prompt now; fine-tune when volume reaches {count(V)} queries a month "
            f"(month {crossing} at your growth)."
        )
        add(
            "volume_grows_past_break_even",
            f"At {s.workload.monthly_growth:.0%} growth a month, volume passes the break-even "
            f"volume in month {crossing} of {H}.",
            "workload.queries_per_month",
            "workload.monthly_growth",
        )
    elif too_few:
        approach = "prompt_then_fine_tune" if cheaper else "prompt_engineering"
        headline = f"Keep prompting and collect at least {count(f.min_examples)} good examples before fine-tuning."
    elif not cheaper:
        approach = "prompt_engineering"
        headline = (
            f"Keep prompting: fine-tuning would cost {usd(-savings)} more over {H} months."
            if savings < 0
            else f"Keep prompting: fine-tuning saves nothing over {H} months."
        )
    elif volatile:
        approach = "prompt_then_fine_tune"
        headline = f"Keep prompting until requirements settle, then fine-tune: it would save {usd(savings)} over {H} months."
    else:
        approach = (
            "fine_tune_plus_prompt" if s.finetuned.static_prompt_tokens > 0 else "fine_tuning"
        )
        when = (
            f"pays back in month {break_even.payback_month}"
            if break_even.payback_month
            else "is cheaper from the start"
        )
        headline = f"Fine-tune: it {when} and saves {usd(savings)} over {H} months."
        if approach == "fine_tune_plus_prompt":
            add(
                "keep_short_prompt",
                f"Keep the fine-tuned model's short prompt ({count(s.finetuned.static_prompt_tokens)} tokens) for the task at hand; the weights carry format and domain.",
                "finetuned.static_prompt_tokens",
            )
    if per_query_gap <= 0 and cheaper:
        # Savings with no per-query saving come from fixed costs, not from fine-tuning itself.
        add(
            "no_per_query_saving",
            "The fine-tuned arm is not cheaper per query; its advantage comes from fixed costs.",
            "prompted.monthly_fixed_cost",
            "finetuned.monthly_fixed_cost",
        )
    return Recommendation(approach=approach, headline=headline, reasons=reasons)


def _label(c: CandidateResult) -> str:
    return f"{c.id} ({c.model})" if c.model else c.id


def envelope_text(segments: Sequence[Segment], labels: dict[str, str]) -> str:
    """'Below 40k a month, A; 40k to 2M, B; above 2M, C.'"""
    if len(segments) == 1:
        return f"{labels[segments[0].candidate]} is cheapest at every monthly volume."
    parts = []
    for i, seg in enumerate(segments):
        who = labels[seg.candidate]
        if i == 0:
            parts.append(f"below {count(seg.to_volume)} queries a month, {who}")
        elif i == len(segments) - 1:
            parts.append(f"above {count(seg.from_volume)}, {who}")
        else:
            parts.append(f"{count(seg.from_volume)} to {count(seg.to_volume)}, {who}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def recommend_candidates(
    costed: Costed,
    results: Sequence[CandidateResult],
    ranking: Sequence[str],
    segments: Sequence[Segment],
    warnings: Sequence[Warning],
) -> Recommendation:
    """The cheapest candidate a team can actually follow, with the reasons that qualify it."""
    s = costed.scenario
    f = s.factors
    H = s.workload.horizon_months
    by_id = {r.id: r for r in results}
    specs = {c.id: c for c in s.candidates}
    index = {c.id: i for i, c in enumerate(s.candidates)}
    base = by_id[s.candidates[costed.baseline_index].id]
    reasons: list[Reason] = []

    def add(code: str, text: str, *fields: str) -> None:
        reasons.append(Reason(code=code, text=text, fields=list(fields)))

    closed = {w.arm for w in warnings if w.code == "fine_tuning_closed"}

    def blocker(cid: str) -> str | None:
        spec = specs[cid]
        if spec.kind == "hybrid":
            return blocker(spec.core)
        if spec.kind != "finetuned":
            return None
        if cid in closed:
            return "closed"
        if spec.training.examples < f.min_examples:
            return "too_few"
        return None

    winner = next((cid for cid in ranking if blocker(cid) is None), ranking[0])
    for cid in ranking:
        if cid == winner:
            break
        why = blocker(cid)
        core = specs[cid].core if specs[cid].kind == "hybrid" else cid  # type: ignore[union-attr]
        ci = index[core]
        if why == "closed":
            add(
                "fine_tuning_closed",
                f"{_label(by_id[cid])} would cost less, but its fine-tuning route takes no new jobs.",
                f"candidates.{ci}.model",
            )
        elif why == "too_few":
            add(
                "too_few_examples",
                f"{_label(by_id[cid])} would cost less, but "
                f"{count(specs[core].training.examples)} examples is below {count(f.min_examples)}: "  # type: ignore[union-attr]
                "collect data first.",
                f"candidates.{ci}.training.examples",
                "factors.min_examples",
            )
    w = by_id[winner]
    saving = w.vs_baseline.savings_over_horizon
    scale = ["workload.queries_per_month", "workload.horizon_months"]
    if winner == base.id:
        add(
            "baseline_cheapest",
            f"Over {H} months {_label(w)} costs {usd(w.total_cost)}, less than any other candidate you can follow.",
            *scale,
        )
    else:
        add(
            "cheaper_than_baseline",
            f"Over {H} months {_label(w)} costs {usd(w.total_cost)}, {usd(saving)} less than the baseline {_label(base)}.",
            *scale,
        )
        if w.vs_baseline.payback_month:
            add(
                "payback",
                f"Against the baseline it pays back in month {w.vs_baseline.payback_month}.",
                *scale,
            )
    labels = {r.id: _label(r) for r in results}
    add("cheapest_by_volume", envelope_text(segments, labels), "workload.queries_per_month")
    reasons.extend(factor_reasons(f))
    for warn in warnings:
        if warn.code in LIFECYCLE_CODES:
            add("lifecycle", warn.message, warn.field or "candidates")

    kind = specs[winner].kind
    q_end = s.workload.queries_per_month * (1 + s.workload.monthly_growth) ** (H - 1)
    later = next(
        (seg for seg in segments if seg.from_volume <= q_end <= seg.to_volume), segments[-1]
    )
    approach: Approach
    if (
        kind == "prompted"
        and specs[later.candidate].kind != "prompted"
        and later.candidate != winner
        and blocker(later.candidate) is None
    ):
        approach = "prompt_then_fine_tune"
        headline = (
            f"Start with {_label(w)}; move to {labels[later.candidate]} when volume passes "
            f"{count(later.from_volume)} queries a month."
        )
        add(
            "volume_grows_past_break_even",
            f"At {s.workload.monthly_growth:.0%} growth a month, volume reaches {count(q_end)} by month {H}, where {labels[later.candidate]} is cheapest.",
            "workload.monthly_growth",
        )
    elif kind == "prompted":
        approach = "prompt_engineering"
        headline = (
            f"Keep {_label(w)}: no other candidate you can follow costs less over {H} months."
            if winner == base.id
            else f"Move to {_label(w)}: it saves {usd(saving)} over {H} months."
        )
    else:
        spec = specs[winner]
        short = spec.static_prompt_tokens if kind == "finetuned" else 1  # type: ignore[union-attr]
        approach = "fine_tune_plus_prompt" if kind == "hybrid" or short > 0 else "fine_tuning"
        headline = (
            f"Choose {_label(w)}: it saves {usd(saving)} over {H} months against {_label(base)}."
            if winner != base.id
            else f"Keep {_label(w)}: it is the cheapest candidate over {H} months."
        )
    return Recommendation(approach=approach, headline=headline, reasons=reasons)
