"""The page's "Embed this scenario": the iframe snippet to copy and the preview's address.

Plain strings: the template autoescapes the snippet again when it puts it in a <textarea>,
so what the user copies is the snippet below, attribute-escaped once.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from fastapi import Request

from app.settings import settings

WIDTH = 600
HEIGHT = 400


@dataclass(frozen=True)
class EmbedShare:
    snippet: str  # the HTML a wiki author pastes
    url: str  # absolute address of the embed, for the snippet and the docs
    preview: str  # the same address from this app's root, for the page's own preview
    title: str  # the frame's title attribute (what a screen reader announces)


def frame_title(title: str | None) -> str:
    return f"Tune or Prompt: {title}" if title else "Tune or Prompt: fine-tune or keep prompting?"


def embed_share(request: Request, query: str, title: str | None) -> EmbedShare | None:
    """None when FRAME_ANCESTORS='none': nobody may frame the embed, so it is not offered."""
    if settings.frame_ancestors == "'none'":
        return None
    # base_url carries the root path and, behind a trusted proxy, its scheme and host.
    base = str(request.base_url)
    path = "embed" + ("?" + query if query else "")
    url = base + path
    name = frame_title(title)
    snippet = (
        f'<iframe src="{escape(url)}" width="{WIDTH}" height="{HEIGHT}" '
        f'title="{escape(name)}" loading="lazy"></iframe>'
    )
    return EmbedShare(snippet=snippet, url=url, preview=urlsplit(base).path + path, title=name)
