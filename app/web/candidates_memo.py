"""The decision memo of several candidates: `GET /memo?candidates.0.kind=...` (and format=md).

The same sections as the two-option memo (app/web/memo.py), for a list: the question, the
recommendation and its reasons, the ranking with every figure against the baseline, the
volume ranges where each candidate is cheapest, the prices used with their sources, as-of
dates and confidence, what each candidate was given, the lifecycle risks, the date printed
and the links back (live, and with the prices frozen where they do not change by month).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from app.api.errors import FieldError
from app.assets import root_path
from app.domain.candidates import CandidatesComparison, Costed, HybridCandidate
from app.domain.formatting import count, usd, usd_fine
from app.domain.recommend import LIFECYCLE_CODES, envelope_text
from app.pricing import Catalog
from app.templating import templates
from app.web import form
from app.web.memo import md

PRICE_KEYS = ("input", "cached_input", "cache_write", "output")


@dataclass(frozen=True)
class CandidateRow:
    rank: int
    id: str
    kind: str
    model: str
    total: str
    per_query: str
    saves: str
    payback: str
    volume: str


@dataclass(frozen=True)
class PriceLine:
    candidate: str
    model: str
    price: str
    value: str
    source: str
    as_of: str
    confidence: str


@dataclass(frozen=True)
class CandidatesMemo:
    title: str
    question: str
    headline: str
    reasons: list[str]
    ranking: list[CandidateRow]
    envelope: str
    prices: list[PriceLine]
    given: list[tuple[str, str]]  # (candidate, its inputs as given)
    risks: list[str]
    warnings: list[str]
    errors: list[FieldError]
    printed: str
    live_url: str
    frozen_url: str
    frozen_note: str
    markdown_url: str


def _kind(c: Any) -> str:
    return {"prompted": "prompted", "finetuned": "fine-tuned", "hybrid": "hybrid"}[c.kind]


def build(
    request: Request,
    items: list[tuple[str, str]],
    reading: form.Reading,
    costed: Costed,
    result: CandidatesComparison,
    catalog: Catalog,
    today: date,
) -> CandidatesMemo:
    s = costed.scenario
    w = s.workload
    by_id = {c.id: c for c in result.candidates}
    rank = {cid: n for n, cid in enumerate(result.ranking, start=1)}
    rows = [
        CandidateRow(
            rank=rank[cid],
            id=cid,
            kind=by_id[cid].kind,
            model=by_id[cid].model
            or ("self-hosted" if by_id[cid].serving == "self_hosted" else "—"),
            total=usd(by_id[cid].total_cost),
            per_query=usd_fine(by_id[cid].average_cost_per_query)
            if by_id[cid].average_cost_per_query is not None
            else "—",
            saves=usd(by_id[cid].vs_baseline.savings_over_horizon),
            payback=str(by_id[cid].vs_baseline.payback_month)
            if by_id[cid].vs_baseline.payback_month is not None
            else "none",
            volume=count(by_id[cid].vs_baseline.monthly_volume) + "/month"
            if by_id[cid].vs_baseline.monthly_volume is not None
            else "none",
        )
        for cid in result.ranking
    ]
    prices: list[PriceLine] = []
    frozen = [(k, v) for k, v in items if k != "format"]
    changing: list[str] = []
    for i, (c, unit) in enumerate(zip(s.candidates, costed.units, strict=True)):
        if isinstance(c, HybridCandidate):
            continue
        entry = catalog.get(unit.model) if unit.model else None
        steady = len(set(unit.variable)) == 1 and not unit.switches
        for key, price in unit.prices.items():
            if price.source in ("request", "input price"):
                continue
            row = entry
            prices.append(
                PriceLine(
                    candidate=c.id,
                    model=unit.model or "—",
                    price=key.replace("_", " "),
                    value=form.display(price.value)
                    if key == "batch_discount"
                    else usd_fine(price.value),
                    source=str(row.source) if row is not None else price.source,
                    as_of=row.as_of.isoformat() if row is not None else "",
                    confidence=row.confidence if row is not None else "",
                )
            )
            if key in PRICE_KEYS and steady:
                name = f"candidates.{i}.prices.{key}"
                frozen = [(k, v) for k, v in frozen if k != name] + [(name, repr(price.value))]
        if not steady and entry is not None:
            changing.append(c.id)
    given = [
        (
            c.id,
            ", ".join(
                f"{k}={form.display(v)}"
                for k, v in form_items(c.model_dump(exclude_unset=True))
                if k not in ("id", "kind")
            )
            or "defaults only",
        )
        for c in s.candidates
    ]
    H = w.horizon_months
    question = (
        f"Which of {len(s.candidates)} options costs least over {H} months, at "
        f"{count(w.queries_per_month)} queries a month"
        + (f" growing {w.monthly_growth:.0%} a month" if w.monthly_growth else "")
        + f", against the baseline {result.baseline}?"
    )
    root = root_path(request.scope)
    live = root + "/?" + urlencode([(k, v) for k, v in items if k != "format"])
    note = (
        "Every catalog price used is written into this link, so the figures reproduce after the catalog changes."
        if not changing
        else "Prices are frozen into this link except for "
        + ", ".join(changing)
        + ", whose prices change inside the horizon (a dated change or a shutdown): those stay on the catalog."
    )
    return CandidatesMemo(
        title=s.title or "Several candidates compared",
        question=question,
        headline=result.recommendation.headline,
        reasons=[r.text for r in result.recommendation.reasons],
        ranking=rows,
        envelope=envelope_text(
            result.cheapest_by_volume,
            {c.id: f"{c.id} ({c.model})" if c.model else c.id for c in result.candidates},
        ),
        prices=prices,
        given=given,
        risks=[w.message for w in result.warnings if w.code in LIFECYCLE_CODES],
        warnings=[w.message for w in result.warnings if w.code not in LIFECYCLE_CODES],
        errors=reading.errors,
        printed=today.isoformat(),
        live_url=live,
        frozen_url=root + "/?" + urlencode(frozen),
        frozen_note=note,
        markdown_url=root
        + "/memo?"
        + urlencode([*[(k, v) for k, v in items if k != "format"], ("format", "md")]),
    )


def form_items(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in data.items():
        if isinstance(v, dict):
            out += form_items(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", v))
    return out


def to_markdown(m: CandidatesMemo) -> str:
    lines = [
        f"# {md(m.title)}",
        "",
        f"Decision memo, Tune or Prompt, printed {m.printed}.",
        "",
        f"**The question.** {md(m.question)}",
        "",
        "## Recommendation",
        "",
        md(m.headline),
        "",
        *[f"- {md(r)}" for r in m.reasons],
        "",
        "## Ranking",
        "",
        "| # | candidate | kind | model | total | per query | saves vs baseline | payback month | break-even volume |",
        "|---|---|---|---|---|---|---|---|---|",
        *[
            f"| {r.rank} | {md(r.id)} | {r.kind} | {md(r.model)} | {r.total} | {r.per_query} | {r.saves} | {r.payback} | {r.volume} |"
            for r in m.ranking
        ],
        "",
        f"**Cheapest by monthly volume.** {md(m.envelope)}",
        "",
        "## Prices used",
        "",
        "| candidate | model | price | value | source | as of | confidence |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {md(p.candidate)} | {md(p.model)} | {p.price} | {p.value} | {p.source} | {p.as_of} | {p.confidence} |"
            for p in m.prices
        ],
        "",
        "## What each candidate was given",
        "",
        *[f"- **{md(cid)}**: {md(text)}" for cid, text in m.given],
        "",
    ]
    if m.risks:
        lines += ["## Lifecycle risks", "", *[f"- {md(r)}" for r in m.risks], ""]
    if m.warnings:
        lines += ["## Warnings", "", *[f"- {md(r)}" for r in m.warnings], ""]
    lines += [
        f"Live scenario: {m.live_url}",
        "",
        f"With these prices: {m.frozen_url} ({md(m.frozen_note)})",
        "",
    ]
    return "\n".join(lines)


def render(
    request: Request,
    items: list[tuple[str, str]],
    reading: form.Reading,
    result: tuple[Costed, CandidatesComparison] | None,
    catalog: Catalog,
    fmt: str,
) -> Response:
    status = 422 if reading.errors else 200
    if result is None:
        if fmt == "md":
            text = "# Nothing can be computed\n\n" + "\n".join(
                f"- `{e.field}`: {md(e.reason)}" for e in reading.errors
            )
            return PlainTextResponse(text + "\n", status_code=422, media_type="text/markdown")
        return templates.TemplateResponse(
            request,
            "memo_candidates.html",
            {"memo": None, "errors": reading.errors},
            status_code=422,
        )
    memo = build(request, items, reading, *result, catalog, date.today())
    if fmt == "md":
        return PlainTextResponse(
            to_markdown(memo),
            status_code=status,
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": 'inline; filename="memo-candidates.md"'},
        )
    return templates.TemplateResponse(
        request,
        "memo_candidates.html",
        {"memo": memo, "errors": reading.errors},
        status_code=status,
    )
