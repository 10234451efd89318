"""Documentation that must not drift from the code."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert missing == []


def test_domain_does_not_import_the_web_framework() -> None:
    root = Path(__file__).resolve().parents[1] / "app"
    offenders = [
        str(path.relative_to(root))
        for package in ("domain", "pricing")
        for path in (root / package).rglob("*.py")
        if "fastapi" in path.read_text(encoding="utf-8")
        or "starlette" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
