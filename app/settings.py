"""Every setting in one place, read from the environment (or a .env file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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


settings = Settings()
