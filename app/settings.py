"""Every setting in one place, read from the environment (or a .env file)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


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
    prices_stale_after_days: int = Field(
        default=120,
        ge=1,
        description="Catalog prices older than this many days are flagged as stale.",
    )
    frame_ancestors: str = Field(
        default="*",
        description="Origins allowed to frame /embed (CSP frame-ancestors), space-separated; "
        "'*' allows any. Every other page refuses framing.",
    )

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
