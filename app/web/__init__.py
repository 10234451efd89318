"""HTML pages. Thin like app/api: parse the query, call the domain, render a template."""

from __future__ import annotations

from fastapi import APIRouter

from app.web import analysis, pages

router = APIRouter()
router.include_router(pages.router)
router.include_router(analysis.router)
