"""HTTP routes. Thin: parse, call the domain, render. One module per concern."""

from __future__ import annotations

from fastapi import APIRouter

from app.api import analysis, candidates, compare, docs, health, models, presets, tokens

router = APIRouter()
router.include_router(health.router)
router.include_router(compare.router)
router.include_router(candidates.router)
router.include_router(analysis.router)
router.include_router(models.router)
router.include_router(presets.router)
router.include_router(tokens.router)
router.include_router(docs.router)
