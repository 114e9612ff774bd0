"""Meta's two-step publishing, shared by Instagram and Threads: a media container is created (no side
effect: nobody sees it), then published (the one call that makes a post). The container id is the
reconciliation handle: it is remembered per send handle in the account state before publishing, so after
an unknown outcome its status tells — PUBLISHED, or still publishable, in which case publishing the same
container again cannot make a second post. Containers expire after 24 hours.

Both platforms fetch images themselves from `image_url`, so the image must be public on the city's
server: the permalink's origin plus `/media/<file>` (the route that serves images of published posts).
Videos go the same way (`video_url`); the platform processes them for a while, so their status is checked
longer, and a container that ends in ERROR is refused with the platform's reason (`Flow.error_field`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Awaitable, Callable
from urllib.parse import quote

from bridge.platforms.connectors.base import AccountState, Outcome, Reason, Remote, Result
from bridge.platforms.connectors.lookup import absent, find_post, uncertain
from bridge.platforms.connectors.http import short
from bridge.platforms.connectors.meta_graph import Graph, classify
from bridge.platforms.connectors.tokens import when
from bridge.platforms.connectors.videos import wait_for

CONTAINER_LIFETIME = timedelta(hours=24)
PUBLISHABLE = ("FINISHED", "IN_PROGRESS")
STATUS_WAITS = (1.0, 2.0, 4.0)  # seconds between status checks while Meta fetches and processes the image
OPT_OUT_TAGS = ("#nobridge", "#nobot")


@dataclass(frozen=True)
class Flow:
    """Where one platform keeps its containers and posts, and what it calls their fields."""

    create: str  # e.g. "/{user}/media"
    publish: str  # e.g. "/{user}/media_publish"
    listing: str  # the account's posts, newest first
    status_field: str  # "status_code" (Instagram) or "status" (Threads)
    text_field: str  # "caption" (Instagram) or "text" (Threads)
    post_url: Callable[[dict], str | None]
    error_field: str = ""  # why a container ended in ERROR: "status" (Instagram) or "error_message" (Threads)


def media_url(permalink: str, path: str) -> str:
    """The public URL of a stored image: the site's base (the permalink before "/@account") + /media/."""
    base = permalink.split("/@", 1)[0]
    return f"{base}/media/{quote(PurePath(path).name)}"


def has_opt_out(text: str) -> bool:
    lowered = text.lower()
    return any(tag in lowered for tag in OPT_OUT_TAGS)


def remember(account: AccountState, handle: str, container: str, now: datetime) -> None:
    kept = {h: c for h, c in (account.limits.get("containers") or {}).items()
            if isinstance(c, dict) and (when(c.get("at")) or now) > now - CONTAINER_LIFETIME}
    kept[handle] = {"id": container, "at": now.isoformat()}
    account.limits = {**account.limits, "containers": kept}


def remembered(account: AccountState, handle: str) -> str | None:
    entry = (account.limits.get("containers") or {}).get(handle)
    return str(entry["id"]) if isinstance(entry, dict) and entry.get("id") else None


def forget(account: AccountState, handle: str) -> None:
    containers = dict(account.limits.get("containers") or {})
    if containers.pop(handle, None) is not None:
        account.limits = {**account.limits, "containers": containers}


async def status_of(graph: Graph, flow: Flow, container: str, now: datetime) -> tuple[str | None, Result | None]:
    answer = await graph.get(container, fields=f"id,{flow.status_field}")
    failure = classify(answer, now, write=False)
    if failure is not None:
        return None, failure
    return str(answer.data.get(flow.status_field) or "") if isinstance(answer.data, dict) else "", None


async def settled(graph: Graph, flow: Flow, container: str, clock,
                  waits=STATUS_WAITS) -> tuple[str | None, Result | None]:
    async def check() -> tuple[str | None, Result | None] | None:
        status, failure = await status_of(graph, flow, container, clock())
        return None if status == "IN_PROGRESS" else (status, failure)

    return await wait_for(check, (0.0, *waits)) or ("IN_PROGRESS", None)  # asked at once: it may be ready


async def publish_container(graph: Graph, flow: Flow, account: AccountState, handle: str, text: str, clock,
                            build: Callable[[], Awaitable[str | Result]], waits=STATUS_WAITS,
                            video: bool = False) -> Result:
    """Publishes the remembered container where one is still usable, else builds and remembers a new one."""
    container = remembered(account, handle)
    status = None
    if container:
        status, _ = await status_of(graph, flow, container, clock())
        if status == "PUBLISHED":
            return await reconcile_container(graph, flow, account, handle, text, None, clock())
        container = container if status in PUBLISHABLE else None
    if not container:
        built = await build()
        if isinstance(built, Result):
            return built
        container = built
        remember(account, handle, container, clock())
        status = "IN_PROGRESS"
    if status == "IN_PROGRESS":
        status, _ = await settled(graph, flow, container, clock, waits)
    if status == "ERROR" or status == "EXPIRED":
        forget(account, handle)
        return await processing_failed(graph, flow, container, status, video)
    if status == "IN_PROGRESS":  # nothing is published yet: the next attempt publishes this container
        return still_processing(clock)
    return await _publish(graph, flow, container, clock)


def still_processing(clock) -> Result:
    return Result(Outcome.UNAVAILABLE, Reason.TIMEOUT, "the platform is still processing the media",
                  retry_at=clock() + timedelta(seconds=30))


async def processing_failed(graph: Graph, flow: Flow, container: str, status: str, video: bool) -> Result:
    """REJECTED with the platform's own words where the container has them (a video it cannot take)."""
    message = ""
    if status == "ERROR" and flow.error_field:
        answer = await graph.get(container, fields=flow.error_field)
        message = short(answer.data.get(flow.error_field)) if answer.ok and isinstance(answer.data, dict) else ""
    detail = f"the platform could not process the media ({status}{': ' + message if message else ''})"
    return Result(Outcome.REJECTED, Reason.REJECTED if video else Reason.IMAGE_UNUSABLE, detail)


async def ready(graph: Graph, flow: Flow, container: str, clock, waits, video: bool = True) -> Result | None:
    """None once an item container (a carousel's video) is processed; else why not — nothing is published."""
    status, failure = await settled(graph, flow, container, clock, waits)
    if failure is not None:
        return failure
    if status in ("ERROR", "EXPIRED"):
        return await processing_failed(graph, flow, container, status, video)
    return still_processing(clock) if status == "IN_PROGRESS" else None


async def _publish(graph: Graph, flow: Flow, container: str, clock) -> Result:
    answer = await graph.post(flow.publish, {"creation_id": container})
    failure = classify(answer, clock(), write=True)
    if failure is not None:
        return failure
    media_id = answer.data.get("id") if isinstance(answer.data, dict) else None
    if not media_id:
        return Result(Outcome.UNKNOWN, Reason.MALFORMED_RESPONSE, "no media id")
    found = await graph.get(str(media_id), fields="id,permalink")
    data = found.data if found.ok and isinstance(found.data, dict) else {}
    return Result(Outcome.SENT, remote=Remote(str(media_id), data.get("permalink"), {"container": container}))


async def reconcile_container(graph: Graph, flow: Flow, account: AccountState, handle: str, text: str,
                              since: datetime | None, now: datetime) -> Result:
    """SENT when the remembered container was published (its post found among the recent ones),
    NOT_FOUND when it was not (publishing it now is safe); without a container, the recent posts tell."""
    container = remembered(account, handle)
    if container:
        status, failure = await status_of(graph, flow, container, now)
        if failure is not None:
            return uncertain(failure)
        if status != "PUBLISHED":
            return Result(Outcome.NOT_FOUND, Reason.NOT_FOUND, f"container {status or 'unknown'}")
    answer = await graph.get(flow.listing, fields=f"id,{flow.text_field},timestamp,permalink", limit=25)
    failure = classify(answer, now, write=False)
    if failure is not None:
        return uncertain(failure)
    items = answer.data.get("data") if isinstance(answer.data, dict) else None
    remote = find_post(items or [], text, since, lambda i: i.get(flow.text_field) or "",
                       lambda i: when(i.get("timestamp")),
                       lambda i: Remote(str(i.get("id")), i.get("permalink") or flow.post_url(i),
                                        {"container": container}))
    if remote is not None:
        return Result(Outcome.SENT, remote=remote)
    if container:  # published, but not among the recent posts: only a person can find it
        return Result(Outcome.MANUAL, Reason.UNDECIDABLE, "published, but not found among the recent posts")
    return absent(since, now)
