"""Token counts for a prompt or a chat transcript, exact where we have the model's tokenizer.

OpenAI models are counted with tiktoken (o200k_base or cl100k_base, read from the verified local
cache in app.domain.encodings). Models whose tokenizer we do not have (Claude, Gemini, open
models) get an estimate from a published characters-per-token ratio, and every such answer says
`exact: false` and which ratio it used.

The encoding comes from the catalog row's `encoding` field, not from tiktoken's prefix map, which
sends `ft:gpt-4.1-*` and `ft:gpt-4o-*` to cl100k_base (wrong: they are o200k_base).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.domain.encodings import EncodingUnavailable, load
from app.pricing.catalog import Catalog

Method = Literal["tiktoken", "estimate"]
Role = Literal["system", "developer", "user", "assistant"]

# openai-cookbook, examples/How_to_count_tokens_with_tiktoken.ipynb (gpt-3.5-turbo-0613 onwards,
# gpt-4, gpt-4o, gpt-4o-mini): every message is framed by 3 tokens, a `name` costs 1 more, and
# every reply is primed with 3 (<|start|>assistant<|message|>).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_TO_PRIME_REPLY = 3


@dataclass(frozen=True)
class Ratio:
    """Characters per token for a model family, with where the figure comes from."""

    family: str
    chars_per_token: float
    source: str
    caveat: str | None = None


# Sources are listed in shared/reference/pricing-facts.md, "Token counting".
OPENAI_RATIO = Ratio(
    "OpenAI",
    4.0,
    "https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them",
)
GEMINI_RATIO = Ratio("Gemini", 4.0, "https://ai.google.dev/gemini-api/docs/tokens")
CLAUDE_RATIO = Ratio(
    "Claude",
    3.5,
    "https://docs.anthropic.com/en/docs/about-claude/glossary",
    caveat=(
        "Newer Claude tokenizers (Opus 4.7 onwards) produce about 30% more tokens for the same "
        "text (platform.claude.com/docs/en/build-with-claude/token-counting); Anthropic's "
        "count_tokens endpoint gives the exact figure."
    ),
)
OPEN_MODEL_RATIO = Ratio(
    "open-weights",
    4.0,
    OPENAI_RATIO.source,
    caveat="No published ratio for this model family; this is the general rule for English text.",
)

# Ids not in the catalog that we can still count exactly, by OpenAI's naming. Dated snapshots
# (gpt-4o-2024-08-06) and real fine-tune ids (ft:gpt-4.1-mini-2025-04-14:org::abc) included.
_O200K = re.compile(
    r"^(?:gpt-5(?:[.-]|$)|gpt-4\.1(?:-|$)|gpt-4\.5(?:-|$)|gpt-4o(?:-|$)|chatgpt-4o(?:-|$)"
    r"|o[134](?:-|$)|codex-mini|omni-moderation)"
)
_CL100K = re.compile(
    r"^(?:gpt-4(?:-|$)|gpt-3\.5-turbo|gpt-35-turbo|text-embedding-3-|text-embedding-ada-002$)"
)
_FAMILIES: tuple[tuple[re.Pattern[str], Ratio], ...] = (
    (re.compile(r"^claude"), CLAUDE_RATIO),
    (re.compile(r"^(?:gemini|gemma)"), GEMINI_RATIO),
    (
        re.compile(
            r"^(?:meta-llama|llama|mistral|mixtral|codestral|ministral|qwen|deepseek|phi-|gpt-oss"
            r"|command|olmo|falcon|yi-)"
        ),
        OPEN_MODEL_RATIO,
    ),
)
_PROVIDER_RATIOS = {"anthropic": CLAUDE_RATIO, "google": GEMINI_RATIO, "openai": OPENAI_RATIO}


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str
    name: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Optional participant name"
    )


class TokenCount(BaseModel):
    model: str
    tokens: int = Field(ge=0)
    encoding: str | None = Field(description="tiktoken encoding used; null for an estimate")
    exact: bool
    method: Method
    ratio: float | None = Field(
        default=None, description="Characters per token used by an estimate; null when exact"
    )
    ratio_source: str | None = Field(default=None, description="Where the ratio comes from")
    characters: int = Field(ge=0, description="Characters (Unicode code points) counted")
    warnings: list[str] = Field(default_factory=list)


class UnknownModel(ValueError):
    def __init__(self, model: str, suggestions: Sequence[str]) -> None:
        self.model = model
        self.suggestions = list(suggestions)
        super().__init__(f"unknown model '{model}'")


@dataclass(frozen=True)
class Tokenizer:
    """How a model's tokens are counted: a tiktoken encoding, or else an estimate's ratio."""

    encoding: str | None
    ratio: Ratio
    notes: tuple[str, ...] = ()


def _base_id(model_id: str) -> str:
    # "ft:gpt-4.1-mini-2025-04-14:org::abc" -> "gpt-4.1-mini-2025-04-14";
    # "meta-llama/Llama-3.1-8B" -> "llama-3.1-8b" (hosts prefix open models with a path).
    base = model_id.lower()
    if base.startswith("ft:"):
        base = base[3:].split(":", 1)[0]
    return base.rsplit("/", 1)[-1]


def _openai_encoding(base: str) -> str | None:
    if _O200K.match(base):
        return "o200k_base"
    if _CL100K.match(base):
        return "cl100k_base"
    return None


def _family_ratio(base: str) -> Ratio | None:
    for pattern, ratio in _FAMILIES:
        if pattern.match(base):
            return ratio
    return None


def tokenizer_for(model_id: str, catalog: Catalog) -> Tokenizer:
    """The catalog row decides; ids not in the catalog are recognised by name or refused."""
    entry = catalog.get(model_id)
    base = _base_id(model_id)
    if entry is not None:
        if entry.encoding is not None:
            return Tokenizer(entry.encoding, OPENAI_RATIO)
        ratio = _family_ratio(base) or _PROVIDER_RATIOS.get(
            entry.provider.lower(), OPEN_MODEL_RATIO
        )
        return Tokenizer(None, ratio)
    encoding = _openai_encoding(base)
    if encoding is not None:
        note = f"{model_id} is not in the pricing catalog; counted with {encoding} by its name."
        return Tokenizer(encoding, OPENAI_RATIO, (note,))
    family = _family_ratio(base)
    if family is not None:
        return Tokenizer(None, family, (f"{model_id} is not in the pricing catalog.",))
    raise UnknownModel(model_id, catalog.suggest(model_id))


def _estimate(characters: int, ratio: Ratio) -> int:
    return math.ceil(characters / ratio.chars_per_token)


def _count(
    model_id: str,
    catalog: Catalog,
    cache_dir: Path | None,
    pieces: Sequence[str],
    overhead: int,
) -> TokenCount:
    tokenizer = tokenizer_for(model_id, catalog)
    warnings = list(tokenizer.notes)
    characters = sum(len(p) for p in pieces)
    ratio = tokenizer.ratio
    if tokenizer.encoding is not None:
        try:
            encoding = load(tokenizer.encoding, cache_dir)
        except EncodingUnavailable as exc:
            warnings.append(f"{exc}. This count is an estimate.")
        else:
            # encode_ordinary: text that looks like a special token (<|endoftext|>) is counted as
            # the plain text it is, as the API does with user content, instead of raising.
            tokens = sum(len(encoding.encode_ordinary(p)) for p in pieces) + overhead
            return TokenCount(
                model=model_id,
                tokens=tokens,
                encoding=tokenizer.encoding,
                exact=True,
                method="tiktoken",
                characters=characters,
                warnings=warnings,
            )
    warnings.append(
        f"Estimated at {ratio.chars_per_token:g} characters per token ({ratio.family} rule of "
        f"thumb, {ratio.source}); real counts vary with language and content."
    )
    if ratio.caveat:
        warnings.append(ratio.caveat)
    return TokenCount(
        model=model_id,
        tokens=sum(_estimate(len(p), ratio) for p in pieces) + overhead,
        encoding=None,
        exact=False,
        method="estimate",
        ratio=ratio.chars_per_token,
        ratio_source=ratio.source,
        characters=characters,
        warnings=warnings,
    )


def count_text(
    model_id: str, text: str, catalog: Catalog, cache_dir: Path | None = None
) -> TokenCount:
    """Tokens in a plain text, as sent in one prompt (no chat framing)."""
    return _count(model_id, catalog, cache_dir, [text], 0)


def count_messages(
    model_id: str,
    messages: Sequence[ChatMessage],
    catalog: Catalog,
    cache_dir: Path | None = None,
) -> TokenCount:
    """Prompt tokens of a chat request, with the cookbook's per-message framing.

    Estimates use the same framing: it is the only published figure, and it is small.
    """
    pieces: list[str] = []
    overhead = TOKENS_TO_PRIME_REPLY
    for message in messages:
        overhead += TOKENS_PER_MESSAGE
        pieces += [message.role, message.content]
        if message.name is not None:
            pieces.append(message.name)
            overhead += TOKENS_PER_NAME
    return _count(model_id, catalog, cache_dir, pieces, overhead)
