"""The break-even solver against a brute-force walk over every replica step."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.solve import Steps, first_root


def _count(steps: Steps | None, v: float) -> int:
    if steps is None:
        return 0
    return max(steps.floor, math.ceil(v / steps.width))


def _f(a: float, s: float, plus: Steps | None, minus: Steps | None, v: float) -> float:
    p = plus.cost * _count(plus, v) if plus else 0.0
    m = minus.cost * _count(minus, v) if minus else 0.0
    return a + s * v + p - m


def _brute(a: float, s: float, plus: Steps | None, minus: Steps | None, hi: float) -> float | None:
    """First V in [0, hi] with f(V) <= 0, piece by piece between every step of either side
    (each piece's replica counts read at its midpoint, so edge rounding cannot mislead)."""
    edges = {0.0, hi}
    for steps in (plus, minus):
        if steps is not None:
            k = 1
            while k * steps.width < hi:
                edges.add(k * steps.width)
                k += 1
    points = sorted(edges)
    if _f(a, s, plus, minus, 0.0) <= 0:
        return 0.0
    for left, right in itertools.pairwise(points):
        mid = (left + right) / 2
        base = _f(a, 0.0, plus, minus, mid)  # f = base + s*V on the piece
        inside = math.nextafter(left, math.inf)
        if base + s * inside <= 0:
            return inside
        if s < 0 and -base / s <= right:
            return -base / s
    return None


steps = st.builds(
    Steps,
    cost=st.floats(0.5, 500),
    width=st.floats(5, 400),
    floor=st.integers(0, 4),
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    a=st.floats(-2000, 5000),
    s=st.floats(-3, 3),
    plus=st.one_of(st.none(), steps),
    minus=st.one_of(st.none(), steps),
)
def test_first_root_matches_brute_force(
    a: float, s: float, plus: Steps | None, minus: Steps | None
) -> None:
    hi = 10_000.0
    got = first_root(a, s, plus, minus, 0.0, hi)
    want = _brute(a, s, plus, minus, hi)
    assert got.exact
    if want is None:
        assert got.volume is None
    else:
        assert got.volume is not None
        assert math.isclose(got.volume, want, rel_tol=1e-9, abs_tol=1e-6), (got, want)


def test_a_tiny_price_finishes_at_once() -> None:
    # Issue 12's reproduction: denormal prices and a billion tokens a second once made the
    # count-down walk from ~1e302 replica steps never end.
    root = first_root(5e6, -1e-30, Steps(1e-27, 1e21, 1), None, 0.0, 1e12)
    assert root.volume is None and root.exact
    root = first_root(1.0, -5e-324, Steps(5e-324, 1e-5, 1), None, 0.0, 1e12)
    assert root.exact
