"""/api/v1/presets: the page's typical cases, each a ready body for POST /api/v1/compare."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.api.errors import ErrorBody
from app.api.models import refuse_unknown
from app.web.presets import PRESETS, Preset

router = APIRouter(prefix="/api/v1", tags=["presets"])


class PresetOut(BaseModel):
    key: str = Field(description="Stable identifier, e.g. leave-openai-fine-tuning")
    label: str
    summary: str
    scenario: dict[str, Any] = Field(
        description="The JSON body of POST /api/v1/compare (only the fields the preset sets)"
    )
    query: str = Field(
        description="The same scenario as a query string for GET /api/v1/compare and the page"
    )


class PresetList(BaseModel):
    count: int
    presets: list[PresetOut]


def preset_out(preset: Preset) -> PresetOut:
    return PresetOut(
        key=preset.key,
        label=preset.label,
        summary=preset.summary,
        scenario=preset.body,
        query=preset.query,
    )


@router.get(
    "/presets",
    response_model=PresetList,
    responses={422: {"model": ErrorBody, "description": "Unknown query parameter"}},
)
async def list_presets(request: Request) -> PresetList:
    """The typical cases the page starts from: key, label, summary and the scenario."""
    refuse_unknown(request, ())
    return PresetList(count=len(PRESETS), presets=[preset_out(p) for p in PRESETS])
