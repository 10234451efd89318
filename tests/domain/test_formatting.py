"""Numbers in words: the formats the page and the reasons use."""

from __future__ import annotations

import pytest

from app.domain.formatting import count, usd, usd_fine


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0.00"),
        (1.5, "$1.50"),
        (12_345.6, "$12,346"),
        (-250, "-$250"),
        (0.0042, "$0.0042"),
        (0.00004, "$4.00e-05"),
        (6.6e302, "$6.6e+302"),  # a fixed cost spread over a vanishing volume: no 300 digits
        (float("inf"), "n/a"),
        (None, "n/a"),
    ],
)
def test_usd(value: float | None, text: str) -> None:
    assert usd(value) == text


def test_per_query_money_keeps_three_significant_figures() -> None:
    assert usd_fine(0.00016) == "$0.000160"
    assert usd_fine(2.5) == "$2.50"


def test_counts_read_in_words_from_a_million() -> None:
    assert count(42_000) == "42,000"
    assert count(1.5e6) == "1.5 million"
    assert count(2.3e9) == "2.3 billion"
