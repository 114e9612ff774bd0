"""XING: the manual route. XING offers no publishing API for company pages, so nothing is sent: the post's
platform page shows the text prepared in XING's limits (shortened with a link to the full post) and a share
link, an editor posts it on XING by hand and marks the send as done (who, when), which the transfer log
records. Optional `page_url` (the company page, linked for the editor) and `text_limit` (characters)."""

from __future__ import annotations

from urllib.parse import quote

from bridge.platforms.connectors.base import (
    Capabilities,
    Connector,
    LinkCards,
    Outcome,
    PostView,
    Reason,
    Remote,
    Rendered,
    ReplyBatch,
    Result,
    TextUnit,
)
from bridge.platforms.connectors.render import fit_text, with_warning

TEXT_LIMIT = 3000  # characters of a company page update; set `text_limit` when XING says otherwise
SHARE = "https://www.xing.com/spi/shares/new?url="


def share_url(permalink: str) -> str:
    """XING's share dialogue for a link (the "Share on XING" plugin's address)."""
    return SHARE + quote(permalink, safe="")


class XingConnector(Connector):
    kind = "xing"

    @property
    def limit(self) -> int:
        value = self.platform.credentials.get("text_limit")
        return int(value) if isinstance(value, int) and value > 0 else TEXT_LIMIT

    def capabilities(self) -> Capabilities:
        return Capabilities(text_limit=self.limit, text_unit=TextUnit.CHARACTERS, max_images=0, alt_text=False,
                            link_cards=LinkCards.SERVER, can_edit=False, can_delete=False, replies_readable=False,
                            manual_route=True)

    def render(self, post: PostView) -> Rendered:
        text, shortened = fit_text(with_warning(post), post.permalink, len, self.limit)
        notes = ["XING has no publishing API for company pages: copy the text, post it on XING by hand, then "
                 "mark the send as done here."]
        if post.images:
            notes.append("Add the images on XING yourself if you want them there.")
        if shortened:
            notes.append("Shortened to fit; it links to the full post.")
        return Rendered(text, len(text), self.limit, TextUnit.CHARACTERS, shortened, (), None, tuple(notes),
                        {"share_url": share_url(post.permalink), "page_url": self.secret("page_url")})

    async def publish(self, rendered: Rendered, handle: str) -> Result:
        return Result(Outcome.MANUAL, Reason.MANUAL_ROUTE)

    async def reconcile(self, handle: str, rendered: Rendered, since) -> Result:
        return Result(Outcome.UNKNOWN, Reason.UNDECIDABLE, "posted by hand")

    async def edit(self, remote: Remote, rendered: Rendered) -> Result:
        return Result(Outcome.UNSUPPORTED, Reason.EDIT_UNSUPPORTED, "change it on XING by hand")

    async def delete(self, remote: Remote) -> Result:
        return Result(Outcome.MANUAL, Reason.DELETE_UNSUPPORTED, "remove it on XING by hand")

    async def fetch_replies(self, remote: Remote) -> ReplyBatch:
        return ReplyBatch(Result(Outcome.UNSUPPORTED, Reason.REPLIES_UNAVAILABLE, "no API"))

    async def check_credentials(self) -> Result:
        return Result(Outcome.SENT)  # nothing to check: no account is used
