"""Token counts: exact with tiktoken for OpenAI models, estimates (flagged) for the rest."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest
import tiktoken
from hypothesis import given
from hypothesis import strategies as st

from app.domain import encodings
from app.domain.tokens import (
    CLAUDE_RATIO,
    GEMINI_RATIO,
    OPEN_MODEL_RATIO,
    ChatMessage,
    UnknownModel,
    count_messages,
    count_text,
    tokenizer_for,
)
from app.pricing import get_catalog
from app.pricing.catalog import Catalog
from app.pricing.schema import ModelEntry, TokenPrices

CATALOG = get_catalog()

# openai-cookbook, examples/How_to_count_tokens_with_tiktoken.ipynb: the notebook's example
# transcript, published as 129 prompt tokens for gpt-3.5-turbo / gpt-4 and 124 for gpt-4o(-mini).
COOKBOOK = [
    ChatMessage(
        role="system",
        content="You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
    ),
    ChatMessage(
        role="system", name="example_user", content="New synergies will help drive top-line growth."
    ),
    ChatMessage(
        role="system",
        name="example_assistant",
        content="Things working well together will increase revenue.",
    ),
    ChatMessage(
        role="system",
        name="example_user",
        content="Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
    ),
    ChatMessage(
        role="system",
        name="example_assistant",
        content="Let's talk later when we're less busy about how to do better.",
    ),
    ChatMessage(
        role="user",
        content="This late pivot means we don't have time to boil the ocean for the client deliverable.",
    ),
]


@pytest.fixture(scope="module", autouse=True)
def prepared_cache() -> None:
    directory = encodings.default_cache_dir()
    missing = [n for n in encodings.ENCODINGS if encodings.cached(n, directory) is None]
    assert not missing, f"{missing} not in {directory}: run `make setup` first"


# Counted once with tiktoken 0.14 (encode_ordinary) and pinned.
@pytest.mark.parametrize(
    ("text", "o200k", "cl100k"),
    [
        ("", 0, 0),
        ("tiktoken is great!", 6, 6),
        ("antidisestablishmentarianism", 6, 6),
        ("お誕生日おめでとう", 8, 9),
        # Text that looks like a special token is counted as the characters it is.
        ("Hello, world! <|endoftext|>", 11, 10),
    ],
)
def test_fixed_strings_count_exactly_in_both_encodings(text: str, o200k: int, cl100k: int) -> None:
    new = count_text("gpt-4.1-mini", text, CATALOG)
    old = count_text("gpt-4", text, CATALOG)
    assert (new.tokens, new.encoding, new.exact, new.method) == (
        o200k,
        "o200k_base",
        True,
        "tiktoken",
    )
    assert (old.tokens, old.encoding, old.exact) == (cl100k, "cl100k_base", True)
    assert new.ratio is None and new.characters == len(text)


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gpt-4o", 124), ("gpt-4o-mini", 124), ("gpt-4", 129), ("gpt-3.5-turbo", 129)],
)
def test_cookbook_transcript_matches_the_published_counts(model: str, expected: int) -> None:
    result = count_messages(model, COOKBOOK, CATALOG)
    assert result.tokens == expected
    assert result.exact


def test_fine_tunes_of_new_models_use_o200k_not_tiktokens_prefix_map() -> None:
    # The trap: tiktoken's prefix map sends every "ft:gpt-4..." id to cl100k_base.
    assert tiktoken.encoding_for_model("ft:gpt-4.1-mini").name == "cl100k_base"
    assert tokenizer_for("ft:gpt-4.1-mini", CATALOG).encoding == "o200k_base"
    assert count_text("ft:gpt-4.1-mini", "お誕生日おめでとう", CATALOG).tokens == 8


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o-2024-08-06", "o200k_base"),
        ("ft:gpt-4.1-mini-2025-04-14:my-org::abc123", "o200k_base"),
        ("ft:gpt-4o-mini-2024-07-18:my-org:custom:xyz", "o200k_base"),
        ("o1-mini", "o200k_base"),
        ("gpt-5.2", "o200k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("ft:gpt-3.5-turbo-0125:my-org::abc", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
    ],
)
def test_openai_ids_outside_the_catalog_are_counted_by_their_name(
    model: str, encoding: str
) -> None:
    tokenizer = tokenizer_for(model, CATALOG)
    assert tokenizer.encoding == encoding
    assert any("not in the pricing catalog" in note for note in tokenizer.notes)


def test_claude_is_estimated_at_three_and_a_half_characters_per_token() -> None:
    result = count_text("claude-sonnet-4-5", "x" * 35, CATALOG)
    assert result.tokens == 10  # 35 / 3.5
    assert (result.exact, result.method, result.encoding) == (False, "estimate", None)
    assert result.ratio == 3.5 and result.ratio_source == CLAUDE_RATIO.source
    assert any("3.5 characters per token" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("model", "ratio"),
    [
        ("gemini-2.5-flash", GEMINI_RATIO),
        ("meta-llama/Llama-3.1-8B-Instruct", OPEN_MODEL_RATIO),
        ("mistral-large", OPEN_MODEL_RATIO),
    ],
)
def test_other_families_are_estimated_with_their_ratio(model: str, ratio: object) -> None:
    result = count_text(model, "x" * 10, CATALOG)
    assert result.tokens == 3  # ceil(10 / 4)
    assert result.exact is False
    assert tokenizer_for(model, CATALOG).ratio == ratio


def _entry(model_id: str, provider: str, encoding: str | None) -> ModelEntry:
    return ModelEntry.model_validate(
        {
            "id": model_id,
            "name": model_id,
            "provider": provider,
            "kind": "general",
            "encoding": encoding,
            "prices": TokenPrices(input=1, output=1),
            "source": "https://example.com/pricing",
            "as_of": date(2026, 1, 1),
            "confidence": "provider",
        }
    )


def test_a_catalog_row_without_encoding_is_estimated_by_its_provider() -> None:
    catalog = Catalog(models={"house-model": _entry("house-model", "anthropic", None)})
    result = count_text("house-model", "x" * 7, catalog)
    assert (result.tokens, result.ratio, result.exact) == (2, 3.5, False)


def test_the_catalog_row_decides_the_encoding() -> None:
    catalog = Catalog(models={"gpt-4-house": _entry("gpt-4-house", "openai", "o200k_base")})
    assert count_text("gpt-4-house", "お誕生日おめでとう", catalog).tokens == 8  # o200k, not cl100k


def test_estimated_messages_get_the_same_framing() -> None:
    messages = [
        ChatMessage(role="user", content="x" * 35),
        ChatMessage(role="assistant", content="", name="bob"),
    ]
    # user: ceil(4/3.5)=2 + ceil(35/3.5)=10; assistant: ceil(9/3.5)=3 + 0 + bob ceil(3/3.5)=1;
    # framing 3 + 3 per message + 1 for the name.
    assert (
        count_messages("claude-haiku-4-5", messages, CATALOG).tokens
        == 2 + 10 + 3 + 0 + 1 + 3 + 6 + 1
    )


def test_an_unknown_model_is_refused_with_suggestions() -> None:
    with pytest.raises(UnknownModel) as error:
        count_text("gtp-4.1-mini", "hi", CATALOG)
    assert "gpt-4.1-mini" in error.value.suggestions


def test_a_missing_encoding_falls_back_to_an_estimate_and_says_so(tmp_path: Path) -> None:
    result = count_text("gpt-4.1", "x" * 40, CATALOG, cache_dir=tmp_path)
    assert (result.tokens, result.exact, result.method, result.ratio) == (
        10,
        False,
        "estimate",
        4.0,
    )
    assert any(
        "o200k_base is not in the local tiktoken cache" in w and "make setup" in w
        for w in result.warnings
    )


@given(st.text(max_size=300))
def test_estimates_are_characters_over_ratio_rounded_up(text: str) -> None:
    result = count_text("claude-opus-4-1", text, CATALOG)
    assert result.tokens == math.ceil(len(text) / 3.5)
    assert result.characters == len(text)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["system", "developer", "user", "assistant"]),
            st.text(max_size=80),
            st.none() | st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_chat_framing_is_three_per_message_one_per_name_and_three_to_prime(
    parts: list[tuple[str, str, str | None]],
) -> None:
    messages = [
        ChatMessage.model_validate({"role": r, "content": c, "name": n}) for r, c, n in parts
    ]
    plain = sum(
        count_text("gpt-4o", r, CATALOG).tokens
        + count_text("gpt-4o", c, CATALOG).tokens
        + (count_text("gpt-4o", n, CATALOG).tokens + 1 if n is not None else 0)
        for r, c, n in parts
    )
    assert count_messages("gpt-4o", messages, CATALOG).tokens == plain + 3 * len(parts) + 3
