"""The calculator with several candidates: `/?candidates.0.kind=prompted&...`.

Any `candidates.<i>.*` name in the query string turns the page into a list of candidate cards;
without one it is the two-arm page as before, so every existing link opens the same view.
The cards reuse the two arms' inputs (the same dotted names after `candidates.<i>.`), and the
results render `compare_candidates`, the same computation as /api/v1/candidates.

Adding, duplicating, removing and moving cards are submit buttons named `action`: the server
rewrites the query string and redirects to it (htmx follows with HX-Redirect), so they work
without JavaScript and the address bar always holds the scenario.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from app.api import cache
from app.api.candidates import run_candidates
from app.api.errors import FieldError
from app.domain import charts
from app.domain.candidates import (
    CandidatesComparison,
    CandidatesScenario,
    Costed,
    candidate_curves,
)
from app.pricing import Catalog
from app.templating import templates
from app.web import form, links

MAX_ON_PAGE = 6
_CANDIDATE = re.compile(r"^candidates\.([0-9]{1,2})\.(.+)$")
KINDS = (("prompted", "Prompted model"), ("finetuned", "Fine-tuned model"), ("hybrid", "Hybrid"))
# Which of the two-arm page's groups make up a card of each kind.
_GROUPS = {"prompted": ("prompted",), "finetuned": ("finetuned", "self_hosted")}


def wants_candidates(items: Sequence[tuple[str, str]]) -> bool:
    return any(k.startswith("candidates.") for k, _ in items)


# --- the query string as a list of cards ------------------------------------------------


def split(
    items: Sequence[tuple[str, str]],
) -> tuple[list[tuple[str, str]], list[list[tuple[str, str]]]]:
    """Shared names (workload, factors, title, baseline) and each card's own, in card order
    (`candidates.<i>.<rest>` becomes `<rest>`)."""
    shared: list[tuple[str, str]] = []
    cards: dict[int, list[tuple[str, str]]] = {}
    for key, value in items:
        m = _CANDIDATE.match(key)
        if m:
            cards.setdefault(int(m.group(1)), []).append((m.group(2), value))
        elif key != "action":
            shared.append((key, value))
    return shared, [cards[i] for i in sorted(cards)]


def join(
    shared: Sequence[tuple[str, str]], cards: Sequence[Sequence[tuple[str, str]]]
) -> list[tuple[str, str]]:
    out = list(shared)
    for i, card in enumerate(cards):
        out += [(f"candidates.{i}.{k}", v) for k, v in card]
    return out


def _get(card: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in reversed(card) if k == name), None)


def _set(card: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in card if k != name] + [(name, value)]


def _fresh_id(cards: Sequence[Sequence[tuple[str, str]]], stem: str) -> str:
    taken = {_get(c, "id") for c in cards}
    for n in range(1, 100):
        cid = f"{stem}{n}"[:32]
        if cid not in taken:
            return cid
    return stem


def apply_action(items: Sequence[tuple[str, str]], action: str) -> list[tuple[str, str]]:
    """The query string after one card action: add-<kind>, dup-<i>, remove-<i>, up-<i>,
    down-<i>, or refresh (a card's kind changed: redraw its fields)."""
    shared, cards = split(items)
    verb, _, arg = action.partition("-")
    if verb == "add" and arg in dict(KINDS) and len(cards) < MAX_ON_PAGE:
        stem = {"prompted": "prompt", "finetuned": "tune", "hybrid": "hybrid"}[arg]
        card = [("id", _fresh_id(cards, stem)), ("kind", arg)]
        if arg == "hybrid":
            core = next((_get(c, "id") for c in cards if _get(c, "kind") == "finetuned"), None)
            fallback = next((_get(c, "id") for c in cards if _get(c, "kind") == "prompted"), None)
            card += [("core", core or ""), ("fallback", fallback or "")]
        cards.append(card)
    elif arg.isdigit() and int(arg) < len(cards):
        i = int(arg)
        if verb == "dup" and len(cards) < MAX_ON_PAGE:
            copy = _set(
                list(cards[i]), "id", _fresh_id(cards, (_get(cards[i], "id") or "c")[:28] + "-")
            )
            cards.insert(i + 1, copy)
        elif verb == "remove" and len(cards) > 2:
            gone = _get(cards.pop(i), "id")
            shared = [(k, v) for k, v in shared if not (k == "baseline" and v == gone)]
        elif verb == "up" and i > 0:
            cards[i - 1], cards[i] = cards[i], cards[i - 1]
        elif verb == "down" and i + 1 < len(cards):
            cards[i + 1], cards[i] = cards[i], cards[i + 1]
    return join(shared, cards)


def from_two_arm(items: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """A two-arm query string as the same scenario with two candidate cards."""
    shared: list[tuple[str, str]] = []
    cards: list[list[tuple[str, str]]] = [
        [("id", "prompted"), ("kind", "prompted")],
        [("id", "finetuned"), ("kind", "finetuned")],
    ]
    for key, value in items:
        arm, _, rest = key.partition(".")
        if arm == "prompted" and rest:
            cards[0].append((rest, value))
        elif arm == "finetuned" and rest:
            cards[1].append((rest, value))
        elif key not in ("action",) and not key.startswith("range."):
            shared.append((key, value))
    return join(shared, cards)


def listed(data: dict[str, Any]) -> dict[str, Any]:
    """The page's `prepare` for form.read: card groups as a list, in number order."""
    groups = data.get("candidates")
    if isinstance(groups, dict):
        keys = sorted((k for k in groups if k.isdigit()), key=int)
        return {**data, "candidates": [groups[k] for k in keys]}
    return data


# --- the cards as the template draws them -----------------------------------------------


@dataclass(frozen=True)
class Card:
    index: int
    id: str
    kind: str
    inputs: list[Any]  # pages.FieldView, named candidates.<i>.<field>
    advanced: list[Any]
    error: FieldError | None  # on the id or kind


def _arm_field(spec: form.Input, arm: str, i: int, reading: form.Reading, catalog: Catalog) -> Any:
    """A two-arm input drawn for card i: the arm's limits and help, the card's value."""
    from app.web.pages import field_view

    rest = spec.name.split(".", 1)[1]
    name = f"candidates.{i}.{rest}"
    sub = form.Reading(
        raw={spec.name: reading.raw[name]} if name in reading.raw else {},
        errors=[
            e.model_copy(update={"field": spec.name}) for e in reading.errors if e.field == name
        ],
        ignored=[],
        scenario=None,
    )
    view = field_view(spec, sub, catalog)
    return replace(view, spec=replace(spec, name=name))


def _choice(
    i: int,
    name: str,
    label: str,
    value: str,
    options: list[tuple[str, str]],
    help_: str,
    reading: form.Reading,
) -> Any:
    from app.web.pages import FieldView

    full = f"candidates.{i}.{name}"
    if value not in {v for v, _ in options}:
        options = [*options, (value, f"{value or '(none)'} (not in the list)")]
    return FieldView(
        spec=form.Input(full, label, "", kind="select"),
        help=help_,
        lo=None,
        hi=None,
        value=value,
        default=None,
        placeholder="",
        error=reading.error_for(full),
        options=options,
    )


def cards(reading: form.Reading, catalog: Catalog) -> list[Card]:
    _, groups = split(list(reading.raw.items()))
    kinds = {(_get(g, "id") or ""): (_get(g, "kind") or "") for g in groups}
    out: list[Card] = []
    for i, card in enumerate(groups):
        kind = _get(card, "kind") or "prompted"
        cid = _get(card, "id") or ""
        inputs: list[Any] = []
        advanced: list[Any] = []
        if kind in _GROUPS:
            arm = "prompted" if kind == "prompted" else "finetuned"
            for group in form.GROUPS:
                if group.key in _GROUPS[kind]:
                    inputs += [_arm_field(s, arm, i, reading, catalog) for s in group.inputs]
                    advanced += [_arm_field(s, arm, i, reading, catalog) for s in group.advanced]
        else:
            tuned = [(k, k) for k, v in kinds.items() if v == "finetuned"]
            prompts = [(k, k) for k, v in kinds.items() if v == "prompted"]
            inputs = [
                _choice(
                    i,
                    "core",
                    "Core (fine-tuned)",
                    _get(card, "core") or "",
                    tuned,
                    "The fine-tuned candidate that serves the common cases",
                    reading,
                ),
                _choice(
                    i,
                    "fallback",
                    "Fallback (prompted)",
                    _get(card, "fallback") or "",
                    prompts,
                    "The prompted candidate that serves the rest",
                    reading,
                ),
                _share_field(i, reading),
            ]
        error = (
            reading.error_for(f"candidates.{i}.id")
            or reading.error_for(f"candidates.{i}.kind")
            or reading.error_for(f"candidates.{i}")
        )
        out.append(Card(i, cid, kind, inputs, advanced, error))
    return out


def _share_field(i: int, reading: form.Reading) -> Any:
    from app.web.pages import FieldView

    name = f"candidates.{i}.core_share"
    value = reading.raw.get(name, "0.8")
    try:
        slider = min(max(float(value), 0.0), 1.0)
    except ValueError:
        slider = 0.8
    return FieldView(
        spec=form.Input(name, "Core share", "fraction of queries", slider="linear", step=0.01),
        help="Share of every month's queries the core serves; the fallback takes the rest",
        lo=0.0,
        hi=1.0,
        value=value,
        default=None,
        placeholder="0.8",
        error=reading.error_for(name),
        options=[],
        slider_lo=0.0,
        slider_hi=1.0,
        slider_value=slider,
    )


def shared_groups(
    reading: form.Reading, catalog: Catalog
) -> list[tuple[Any, list[Any], list[Any]]]:
    from app.web.pages import field_view

    out = []
    for group in form.GROUPS:
        if group.key in ("workload", "factors"):
            out.append(
                (
                    group,
                    [field_view(s, reading, catalog) for s in group.inputs],
                    [field_view(s, reading, catalog) for s in group.advanced],
                )
            )
    return out


# --- the page ---------------------------------------------------------------------------


def results_context(
    reading: form.Reading, result: tuple[Costed, CandidatesComparison] | None
) -> dict[str, Any]:
    ctx: dict[str, Any] = {"errors": reading.errors, "comparison": None}
    if result is None:
        return ctx
    costed, comparison = result
    curve = candidate_curves(costed, comparison)
    rank = {cid: n for n, cid in enumerate(comparison.ranking, start=1)}
    ctx.update(
        comparison=comparison,
        rank=rank,
        series={cid: charts.series(i) for i, cid in enumerate(curve.ids)},
        volume_chart=charts.candidate_volume_chart(curve),
        cumulative_chart=charts.candidate_cumulative_chart(curve),
        cumulative=list(zip(*curve.cumulative, strict=True)),
        ids=curve.ids,
    )
    return ctx


def render(request: Request, catalog: Catalog, items: list[tuple[str, str]]) -> Response:
    action = next((v for k, v in items if k == "action"), None)
    fragment = (
        "HX-Request" in request.headers and "HX-History-Restore-Request" not in request.headers
    )
    if action is not None:
        url = "/?" + urlencode(apply_action(items, action))
        url = str(request.scope.get("root_path", "")) + url
        if fragment:
            return Response(status_code=200, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)
    key = cache.responses.key(request, catalog)
    if (hit := cache.responses.get(key)) is not None:
        return hit

    def price(scenario: CandidatesScenario) -> tuple[Costed, CandidatesComparison]:
        return run_candidates(scenario, catalog)

    reading, result = form.read(items, price, model=CandidatesScenario, prepare=listed)
    context = results_context(reading, result)
    if fragment:
        # The cards' headers show their figures; the fragment swaps them out of band.
        context.update(cards=cards(reading, catalog), oob_cards=True)
        template = "_partials/_candidates_results.html"
    else:
        shown = cards(reading, catalog)
        context.update(
            cards=shown,
            groups=shared_groups(reading, catalog),
            kinds=KINDS,
            max_cards=MAX_ON_PAGE,
            baseline=reading.raw.get("baseline") or (shown[0].id if shown else ""),
            query=links.encode([(k, v) for k, v in items if k != "action"]),
        )
        template = "candidates.html"
    status = 422 if reading.errors else 200
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["Vary"] = "HX-Request"
    return cache.responses.put(key, response)


def two_arm_link(items: Sequence[tuple[str, str]]) -> str:
    """The link from the two-arm page to the same scenario as candidate cards."""
    return "/?" + urlencode(from_two_arm(items))
