"""Exact break-even solving for a cost difference linear in volume plus replica steps.

    f(V) = a + s*V + plus.cost * plus.count(V) - minus.cost * minus.count(V)

is what one candidate's constant-volume total minus another's looks like: per-token serving
is linear in V; self-hosted serving adds `cost` (the horizon's price of one replica) for each
replica, and the replica count is a step function, max(floor, ceil(V / width)). We want the
smallest V in [lo, hi] with f(V) <= thr.

Every piece between replica steps is linear, and the piece's best point (its right end when f
falls with V, its left limit when it rises) lies on a line in the step number n, so the first
piece with a root has a closed form: the work is O(1) whatever the numbers. With steps on both
sides (two self-hosted candidates) the pieces of the coarser step function are walked, each
solved in closed form, at most MAX_WALK of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_WALK = 20_000  # coarse steps walked when both sides have replica steps


@dataclass(frozen=True)
class Steps:
    """`cost` USD per replica over the horizon; a new replica every `width` of monthly volume
    above `floor * width` (inf: the load is nil and `floor` replicas serve any volume)."""

    cost: float
    width: float
    floor: int
    # The replica count at volume V as the engine computes it. A root just past a step's edge
    # is nudged until this count agrees that V is in the step (n*width and V/width round
    # differently by an ulp or two).
    count: Callable[[float], int] | None = field(default=None, compare=False, repr=False)

    def at(self, v: float) -> int:
        if self.count is not None:
            return self.count(v)
        return (
            max(self.floor, math.ceil(v / self.width)) if math.isfinite(self.width) else self.floor
        )


@dataclass(frozen=True)
class Root:
    volume: float | None  # None: no root in [lo, hi]
    exact: bool = True  # False: the walk stopped at MAX_WALK before finding one


def _after(x: float) -> float:
    return math.nextafter(x, math.inf)


def _linear(a: float, s: float, left: float, right: float, thr: float) -> float | None:
    """Smallest V in [left, right] with a + s*V <= thr."""
    if left > right:
        return None
    if a + s * left <= thr:
        return left
    if s >= 0:
        return None
    # The tolerance decides ties at the left edge only; inside, the exact crossing.
    v = -a / s
    if v > right:
        return None
    return max(v, left)


def _pieces(width: float, lo: float, hi: float) -> tuple[int, int] | None:
    """Step numbers n whose piece ((n-1)w, nw] meets (lo, hi], or None when none can."""
    if not math.isfinite(width) or width <= 0:
        return None
    first, last = lo / width, hi / width
    if not (math.isfinite(first) and math.isfinite(last)) or last > 1e18:
        return None
    return max(1, math.ceil(first)), max(1, math.ceil(last))


def one_step(
    a: float, s: float, steps: Steps, sign: float, lo: float, hi: float, thr: float
) -> float | None:
    """Smallest V in [lo, hi] with a + s*V + sign*cost*max(floor, ceil(V/width)) <= thr."""
    c = sign * steps.cost
    w, m = steps.width, steps.floor
    floor_end = m * w if math.isfinite(w) else math.inf
    # The floor region [0, m*w]: m replicas.
    root = _linear(a + c * m, s, lo, min(hi, floor_end), thr)
    if root is not None or floor_end >= hi:
        return root
    span = _pieces(w, max(lo, floor_end), hi)
    if span is None:
        return None
    n_lo, n_hi = span
    n_lo = max(n_lo, m + 1)
    # The piece holding the search's left edge is cut there; solve it on its own.
    left = max(lo, floor_end)
    first = _linear(
        a + c * n_lo, s, _after(left) if left == floor_end else left, min(hi, n_lo * w), thr
    )
    if first is not None:
        return _into(first, steps, n_lo, hi)
    if n_lo >= n_hi:
        return None
    # Pieces n_lo+1 .. n_hi. Best value of piece n on a line in n: base + n*k.
    k = c + s * w
    base = a if s < 0 else a - s * w
    start = n_lo + 1
    if k >= 0:
        n = start  # later pieces are no better
    else:
        q = (thr - base) / k
        if not q <= n_hi + 1:  # beyond the range (or overflowed to inf)
            return None
        n = max(start, math.ceil(q))
    # Rounding in the closed form: step back while the previous piece also holds a root, and
    # forward while this one does not; bounded, a few steps at most.
    for _ in range(4):
        if (
            n - 1 >= start
            and _linear(a + c * (n - 1), s, _after((n - 2) * w), (n - 1) * w, thr) is not None
        ):
            n -= 1
        else:
            break
    for _ in range(4):
        if n > n_hi:
            return None
        v = _linear(a + c * n, s, _after((n - 1) * w), min(hi, n * w), thr)
        if v is not None:
            return _into(v, steps, n, hi)
        if k >= 0:
            return None
        n += 1
    return None


def _into(v: float, steps: Steps, n: int, hi: float) -> float:
    """`v`, moved up by the few ulps it takes for the replica count to reach step n."""
    for _ in range(64):
        if steps.at(v) >= n or v >= hi:
            return v
        v = _after(v)
    return v


def first_root(
    a: float,
    s: float,
    plus: Steps | None,
    minus: Steps | None,
    lo: float,
    hi: float,
    thr: float = 0.0,
) -> Root:
    """Smallest V in [lo, hi] with f(V) <= thr (see the module docstring)."""
    if plus is None and minus is None:
        return Root(_linear(a, s, lo, hi, thr))
    if plus is None or minus is None:
        steps, sign = (plus, 1.0) if plus is not None else (minus, -1.0)
        assert steps is not None
        return Root(one_step(a, s, steps, sign, lo, hi, thr))
    # Both sides have steps. Where one side sits on its floor of replicas it is a constant and
    # the other a single step function: closed form. Beyond both floors, r(V) lies within one
    # replica of V/width, so f stays within a band around the line a + sigma*V; only the
    # coarse steps inside the band can hold the first root, and those are walked.
    coarse, fine, c_sign = (plus, minus, 1.0) if plus.width >= minus.width else (minus, plus, -1.0)
    f_sign = -c_sign
    cc, cf = c_sign * coarse.cost, f_sign * fine.cost
    wc, wf = coarse.width, fine.width
    end_c = coarse.floor * wc if math.isfinite(wc) else math.inf
    end_f = fine.floor * wf if math.isfinite(wf) else math.inf
    # 1. The coarse side on its floor.
    v = one_step(a + cc * coarse.floor, s, fine, f_sign, lo, min(hi, end_c), thr)
    if v is not None or end_c >= hi:
        return Root(v)
    # 2. The fine side on its floor, the coarse side stepping.
    if end_f > end_c:
        left = max(lo, end_c)
        v = one_step(
            a + cf * fine.floor,
            s,
            coarse,
            c_sign,
            _after(left) if left == end_c else left,
            min(hi, end_f),
            thr,
        )
        if v is not None or end_f >= hi:
            return Root(v)
    # 3. Both stepping: the band.
    start = max(lo, end_c, end_f)
    stop = hi
    sigma = s + plus.cost / plus.width - minus.cost / minus.width
    low_gap, high_gap = minus.cost, plus.cost  # f in (g - low_gap, g + high_gap]
    if sigma > 0:
        stop = min(stop, (thr + low_gap - a) / sigma)
    elif sigma < 0:
        start = max(start, (a - low_gap - thr) / -sigma)
        stop = min(stop, (a + high_gap - thr) / -sigma)
    elif a - low_gap > thr:
        return Root(None)
    if not (start <= stop):
        return Root(None)
    span = _pieces(wc, start, stop)
    if span is None:
        return Root(None)
    n_lo, n_hi = span
    n_lo = max(n_lo, coarse.floor + 1)
    for n in range(n_lo, min(n_hi, n_lo + MAX_WALK) + 1):
        piece_lo = max(start, _after((n - 1) * wc)) if n == n_lo else _after((n - 1) * wc)
        v = one_step(a + cc * n, s, fine, f_sign, piece_lo, min(stop, n * wc), thr)
        if v is not None:
            return Root(v)
    if n_hi > n_lo + MAX_WALK:
        return Root(None, exact=False)
    return Root(None)
