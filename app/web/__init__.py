"""The page, its fragments and the embed: HTML views over the one comparison."""

from __future__ import annotations

from fastapi import APIRouter

from app.web import analysis, embed, memo, pages

router = APIRouter()
router.include_router(pages.router)
router.include_router(embed.router)
router.include_router(analysis.router)
router.include_router(memo.router)
