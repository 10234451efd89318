"""Token counting speed: our count_text / count_messages against calling tiktoken directly.

    .venv/bin/python bench/tokens.py

Prints the best of several runs for a ~100k-token prompt in each encoding, the chat framing on
the same text split into messages, and the worst input the 2 MiB body cap lets through.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain import encodings
from app.domain.tokens import ChatMessage, count_messages, count_text
from app.pricing import get_catalog

WORDS = [
    "the",
    "model",
    "prompt",
    "token",
    "cost",
    "tune",
    "fine",
    "budget",
    "latency",
    "cache",
    "output",
    "input",
    "system",
    "user",
    "assistant",
    "example",
    "answer",
    "question",
    "policy",
    "refund",
    "order",
    "customer",
    "support",
    "ticket",
    "summary",
    "2024",
    "42",
    "3.14",
    "(",
    ")",
    "{",
    "}",
    ":",
    ";",
    ",",
    ".",
    "!",
    "?",
    "naïve",
    "café",
    "東京",
    "データ",
]


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def prompt(n_words: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def main() -> None:
    catalog = get_catalog()
    t0 = time.perf_counter()
    problems = encodings.warm()
    print(
        f"load both encodings from the cache: {time.perf_counter() - t0:.3f} s (first use per process)"
    )
    if problems:
        sys.exit("\n".join(problems))

    print(f"{'case':<44}{'tokens':>9}{'ours ms':>10}{'tiktoken ms':>13}{'ratio':>7}")
    for model, name in (("gpt-4.1", "o200k_base"), ("gpt-4", "cl100k_base")):
        enc = encodings.load(name)
        text = prompt(80_000)
        tokens = len(enc.encode_ordinary(text))
        ours = best_of(5, lambda m=model, t=text: count_text(m, t, catalog))
        direct = best_of(5, lambda e=enc, t=text: len(e.encode_ordinary(t)))
        print(
            f"{f'{model} ({name}), {len(text):,} chars':<44}{tokens:>9,}{ours * 1e3:>10.1f}{direct * 1e3:>13.1f}{ours / direct:>7.2f}"
        )

        messages = [
            ChatMessage(role="user", content=text[i : i + 4000]) for i in range(0, len(text), 4000)
        ]
        ours = best_of(5, lambda m=model, ms=messages: count_messages(m, ms, catalog))
        direct = best_of(
            5, lambda e=enc, ms=messages: sum(len(e.encode_ordinary(x.content)) + 4 for x in ms) + 3
        )
        print(
            f"{f'  same text as {len(messages)} messages':<44}{'':>9}{ours * 1e3:>10.1f}{direct * 1e3:>13.1f}{ours / direct:>7.2f}"
        )

    # The slowest input a 2 MiB body can carry: one long run with no pre-tokenizer split.
    enc = encodings.load("o200k_base")
    worst = "a" * 2_000_000
    ours = best_of(1, lambda: count_text("gpt-4.1", worst, catalog))
    direct = best_of(1, lambda: len(enc.encode_ordinary(worst)))
    label = 'worst case: 2,000,000 x "a" (o200k_base)'
    print(f"{label:<44}{'':>9}{ours * 1e3:>10.1f}{direct * 1e3:>13.1f}{ours / direct:>7.2f}")


if __name__ == "__main__":
    main()
