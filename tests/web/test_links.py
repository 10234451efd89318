"""links.encode writes what urllib's urlencode writes, only faster on text that needs no quoting."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from app.web import links

pairs = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=6)


@given(pairs)
def test_encode_is_urlencode(items: list[tuple[str, str]]) -> None:
    assert links.encode(items) == urlencode(items)


def test_encode_on_a_scenario_query() -> None:
    items = [
        ("workload.queries_per_month", "2000000"),
        ("title", "Support bot & FAQ (v2)"),
        ("prompted.model", ""),
        ("workload.monthly_growth", "-0.05"),
        ("finetuned.model", "ft:gpt-4.1-mini~x"),
    ]
    assert links.encode(items) == urlencode(items)
