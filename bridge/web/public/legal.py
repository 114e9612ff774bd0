"""Imprint, privacy notice and accessibility statement, reachable from every public page.

Each page shows the text configured in `[privacy]` (if any) and links to the authority's full
document at the configured URL. Without configured text, the privacy notice and the accessibility
statement describe what this server itself does, which is true of every installation.
"""

from __future__ import annotations

from aiohttp import web

from bridge.appkeys import CONFIG
from bridge.web.public.views import public_page, uris_for

PAGES = {
    "/imprint": ("imprint", "imprint_text", "imprint_url"),
    "/privacy": ("privacy", "privacy_text", "privacy_url"),
    "/accessibility": ("accessibility", "accessibility_text", "accessibility_url"),
}


def setup(app: web.Application) -> None:
    for path, (page, _, _) in PAGES.items():
        app.router.add_get(path, legal_page, name=f"public_{page}")


def paragraphs(text: str | None) -> list[str]:
    """Plain text from the config, split at blank lines; the template escapes it."""
    if not text:
        return []
    return [" ".join(block.split()) for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]


async def legal_page(request: web.Request) -> web.StreamResponse:
    page, text_key, url_key = PAGES[request.path]
    privacy = request.app[CONFIG].privacy
    url = getattr(privacy, url_key)
    context = {
        "page": page,
        "paragraphs": paragraphs(getattr(privacy, text_key)),
        # A configured URL pointing back at this very page would be a loop, not a link.
        "full_url": url if url and url.rstrip("/") != uris_for(request).url(request.path) else None,
        "dpo_contact": privacy.dpo_contact,
    }
    return public_page(request, "public_legal.html", context)
