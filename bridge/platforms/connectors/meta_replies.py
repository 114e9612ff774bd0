"""Comments and replies from the Graph APIs as `PlatformReply`s: only what is public (no hidden
comments, no replies from private Threads profiles), authors with #nobridge/#nobot skipped, and only the
minimal fields — a platform-scoped author id, the text, the time, the permalink. Names are never kept.
"""

from __future__ import annotations

from datetime import datetime

from bridge.platforms.connectors.base import Outcome, PlatformReply, Reason, Remote, ReplyBatch, Result
from bridge.platforms.connectors.meta_graph import Graph, classify
from bridge.platforms.connectors.meta_media import has_opt_out
from bridge.platforms.connectors.tokens import when

MAX_PAGES = 10


async def read_pages(graph: Graph, path: str, now: datetime, **params) -> tuple[list[dict], bool, Result | None]:
    """(items, complete, failure): follows the `after` cursors up to MAX_PAGES pages."""
    items: list[dict] = []
    after = None
    for _ in range(MAX_PAGES):
        answer = await graph.get(path, **params, after=after)
        failure = classify(answer, now, write=False)
        if failure is not None:
            return items, False, failure
        data = answer.data if isinstance(answer.data, dict) else {}
        if not isinstance(data.get("data"), list):
            return items, False, Result(Outcome.UNAVAILABLE, Reason.REPLIES_UNAVAILABLE, "no data list")
        items.extend(i for i in data["data"] if isinstance(i, dict))
        paging = data.get("paging") if isinstance(data.get("paging"), dict) else {}
        after = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
        if not after:
            return items, True, None
    return items, False, None


def batch(kind: str, items: list[dict], complete: bool, failure: Result | None, convert) -> ReplyBatch:
    if failure is not None and not items:
        return ReplyBatch(failure)
    replies, skipped = [], 0
    for item in items:
        reply = convert(kind, item)
        if reply is None:
            skipped += 1
        else:
            replies.append(reply)
    return ReplyBatch(Result(Outcome.SENT), tuple(replies), (), complete and failure is None, skipped)


def facebook_comment(kind: str, item: dict) -> PlatformReply | None:
    """A Page post comment; `from` (page-scoped id) comes only with a Page token with the MODERATE task."""
    author = item.get("from") if isinstance(item.get("from"), dict) else {}
    text = str(item.get("message") or "")
    if item.get("is_hidden") or not author.get("id") or not item.get("id") or has_opt_out(text):
        return None
    return PlatformReply(f"facebook:{item['id']}", f"facebook:{author['id']}", text, when(item.get("created_time")),
                         item.get("permalink_url"))


def instagram_comment(kind: str, item: dict) -> PlatformReply | None:
    author = item.get("from") if isinstance(item.get("from"), dict) else {}
    author_id = author.get("id") or item.get("username")
    text = str(item.get("text") or "")
    if item.get("hidden") or not author_id or not item.get("id") or has_opt_out(text):
        return None
    return PlatformReply(f"instagram:{item['id']}", f"instagram:{author_id}", text, when(item.get("timestamp")))


def instagram_thread(items: list[dict]) -> list[dict]:
    """Top-level comments and their replies (IG nests one level) as one flat list."""
    flat: list[dict] = []
    for item in items:
        flat.append(item)
        nested = item.get("replies") if isinstance(item.get("replies"), dict) else {}
        flat.extend(r for r in nested.get("data") or [] if isinstance(r, dict))
    return flat


def threads_reply(kind: str, item: dict) -> PlatformReply | None:
    """`username` and `permalink` come back only for public profiles: a reply without them is not public."""
    text = str(item.get("text") or "")
    hidden = str(item.get("hide_status") or "NOT_HUSHED") not in ("NOT_HUSHED", "UNHUSHED")
    if hidden or not item.get("username") or not item.get("id") or has_opt_out(text):
        return None
    return PlatformReply(f"threads:{item['id']}", f"threads:{item['username']}", text, when(item.get("timestamp")),
                         item.get("permalink"))


def platform_id(reply_id: str, kind: str) -> str | None:
    """The Graph id of a comment from the reply id backfeed stored (`facebook:<id>` …)."""
    prefix = f"{kind}:"
    return reply_id[len(prefix):] or None if reply_id.startswith(prefix) else None


async def post_comment(graph: Graph, path: str, text: str, now: datetime) -> Result:
    """A reply to a comment (`/{comment-id}/comments` on Facebook, `/{ig-comment-id}/replies` on Instagram):
    one write with no handle of ours, so an unknown outcome goes to the editor."""
    answer = await graph.post(path, {"message": text})
    failure = classify(answer, now, write=True)
    if failure is not None:
        return failure
    comment = answer.data.get("id") if isinstance(answer.data, dict) else None
    if not comment:
        return Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no comment id")
    return Result(Outcome.SENT, remote=Remote(str(comment)))
