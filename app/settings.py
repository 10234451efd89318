"""Every setting in one place, read from the environment (or a .env file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
# Levels of per-request compression, measured on the results fragment (docs/performance.md).
GZIP_LEVEL = 1
BROTLI_LEVEL = 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    pricing_dir: Path = Field(
        default=ROOT / "pricing_data",
        description="Directory of the shipped pricing catalog (one TOML file per provider).",
    )
    pricing_extra_dir: Path | None = Field(
        default=None,
        description="Directory of negotiated-rate files that add models or override catalog fields.",
    )
    pricing_max_file_bytes: int = Field(
        default=2_000_000,
        ge=1_000,
        le=1_000_000_000,
        description="Largest pricing file (bytes) read at start-up; a larger one stops start-up.",
    )
    prices_stale_after_days: int = Field(
        default=120,
        ge=1,
        description="Catalog prices older than this many days are flagged as stale.",
    )
    response_cache_size: int = Field(
        default=512,
        ge=0,
        le=100_000,
        description="Rendered GET answers each worker keeps in memory, by URL (0: none).",
    )
    response_cache_bytes: int = Field(
        default=8_000_000,
        ge=0,
        le=10_000_000_000,
        description="Bytes of rendered answers each worker keeps at most (the bodies); the "
        "least recently used go first when either this or RESPONSE_CACHE_SIZE is reached.",
    )
    arms_cache_size: int = Field(
        default=256,
        ge=0,
        le=100_000,
        description="Scenarios (two-arm or candidates) each worker keeps priced month by month, "
        "by everything but their volume, growth and discount rate, so a dragged volume slider "
        "reprices only the volumes (0: none).",
    )
    request_time_limit: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Seconds a request may compute or wait before it is answered 503 (the worker "
        "keeps serving): a last line of defence against a computation that does not end.",
    )
    frame_ancestors: str = Field(
        default="*",
        description="Origins allowed to frame /embed (CSP frame-ancestors), space-separated; "
        "'*' allows any. Every other page refuses framing.",
    )

    compression: bool = Field(
        default=True,
        description="Compress answers with brotli or gzip for clients that accept it "
        "(Accept-Encoding); static files are compressed once, at start-up.",
    )
    compression_min_bytes: int = Field(
        default=1024,
        ge=0,
        le=1024 * 1024,
        description="Answers smaller than this many bytes are sent uncompressed: below a "
        "packet or two, compressing saves no time.",
    )
    gzip_level: int = Field(
        default=GZIP_LEVEL,
        ge=1,
        le=9,
        description="zlib level of answers gzipped per request (pages, fragments, the API); "
        "chosen by bench/compression.py (docs/performance.md).",
    )
    brotli_level: int = Field(
        default=BROTLI_LEVEL,
        ge=0,
        le=11,
        description="Brotli quality of answers compressed per request, for clients that "
        "accept br; chosen by bench/compression.py (docs/performance.md).",
    )

    input_delay_ms: int = Field(
        default=30,
        ge=0,
        le=2_000,
        description="Milliseconds the page's form waits after the last keystroke or slider "
        "step before it asks for new results (htmx's debounce); a newer request cancels one "
        "still in flight. Chosen by bench/slider.py (docs/performance.md).",
    )

    host: str = Field(
        default="127.0.0.1",
        description="Address `python -m app` listens on; 0.0.0.0 in the container image.",
    )
    port: int = Field(default=8000, ge=1, le=65535, description="Port `python -m app` listens on.")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="uvicorn worker processes of `python -m app` (the container image sets 2).",
    )
    root_path: str = Field(
        default="",
        description="URL prefix the app is served under behind a reverse proxy (e.g. /tools/tune); "
        "empty when served at the root.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Comma-separated proxy addresses (or '*') whose X-Forwarded-For and "
        "X-Forwarded-Proto headers `python -m app` trusts.",
    )
    event_loop: Literal["asyncio", "uvloop"] = Field(
        default="asyncio",
        description="Event loop of each uvicorn worker. Python's asyncio serves saturated "
        "connections in turn; uvloop answers cached routes faster but, once a worker is "
        "saturated, leaves some connections waiting 10-20 times as long as the median "
        "(bench/fairness.py, docs/performance.md).",
    )
    access_log: bool = Field(
        default=False,
        description="uvicorn logs one line per request; off by default because the reverse "
        "proxy or load balancer in front already does.",
    )

    @field_validator("root_path")
    @classmethod
    def _valid_root_path(cls, value: str) -> str:
        # One canonical form: "" or "/a/b" (leading slash, no trailing slash), so the prefix
        # joins paths without doubling or dropping a slash.
        stripped = value.strip().rstrip("/")
        if stripped and not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", stripped):
            raise ValueError(
                f"ROOT_PATH has value {value!r}: expected a URL path such as /tools/tune"
            )
        return stripped

    @field_validator("frame_ancestors")
    @classmethod
    def _valid_sources(cls, value: str) -> str:
        # These go verbatim into a CSP header: refuse anything that could end the directive.
        tokens = value.split()
        pattern = re.compile(r"^(\*|'self'|'none'|https?://[A-Za-z0-9.*-]+(:[0-9]{1,5})?)$")
        bad = [t for t in tokens if not pattern.match(t)]
        if not tokens or bad:
            raise ValueError(
                f"FRAME_ANCESTORS has value {value!r}: expected space-separated origins "
                "(https://wiki.example.com), '*', 'self' or 'none'"
            )
        return " ".join(tokens)


settings = Settings()
