"""Rendered public documents kept in memory by the version of what they show.

A handler hands `answer` a key (route and arguments, the negotiated type), the versions it depends on (an
account, the instance, shown replies; see `bridge.store.versions` for when they change) and a function
that renders. While the versions stay the same, the bytes come from memory and a conditional GET is
answered from the stored ETag and Last-Modified without touching the database. The ETag is the rendered
bytes' hash unless the renderer sets its own, so every process agrees on it. Signed-in people and
anything but GET/HEAD bypass the cache; only 200 and 410 answers without cookies are kept.

Once a request without a Cookie header was answered from an entry, its path with query and its Accept header
lead straight to that entry (a shortcut) while the instance's, the replies' and the followers' versions stay
the same: every change of an account bumps the instance's version too, so these unchanged mean nothing
changed. The first middleware (`bridge.web.public.shortcut`) answers such requests, a 304 included, before
the others run.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from multidict import CIMultiDict

from bridge.appkeys import USER
from bridge.runtime import metrics
from bridge.store.versions import FOLLOWERS, INSTANCE, PEOPLE, REPLIES, Snapshot, VersionBoard
from bridge.web.headers import SECURITY_HEADERS
from bridge.web.i18n import current_language
from feeds.http import evaluate

KEPT_STATUSES = (200, 410)
DROPPED_HEADERS = frozenset({"content-length", "date", "server"})
VALIDATORS = frozenset({"etag", "last-modified", "cache-control", "vary", "access-control-allow-origin"})
ENTRY_OVERHEAD = 600  # bytes of a stored entry beyond its body: key, headers, bookkeeping
REPLY_ROUTES = frozenset({"post"})  # keys of documents that show replies (`Depends(replies=True)`)
MAX_SHORTCUTS = 4096  # request forms remembered; beyond, all are forgotten (a crawler of query strings)


@dataclass(frozen=True, slots=True)
class Entry:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str
    last_modified: datetime | None
    # Built once per entry, not per request: what a 200 and a 304 carry, the security headers with the 200.
    served: CIMultiDict = field(init=False, repr=False, compare=False)
    validators: CIMultiDict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        served = CIMultiDict(self.headers)
        for name, value in SECURITY_HEADERS.items():
            served.setdefault(name, value)
        object.__setattr__(self, "served", served)
        object.__setattr__(self, "validators", CIMultiDict((k, v) for k, v in self.headers
                                                           if k.lower() in VALIDATORS))

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD


class ReadCache:
    """An LRU of rendered documents bounded by bytes, and the version board it keys them by."""

    def __init__(self, board: VersionBoard, max_bytes: int):
        self.board, self.max_bytes = board, max_bytes
        self.entries: OrderedDict[tuple, Entry] = OrderedDict()
        self.bytes = 0
        self.replies_version: int | None = None
        self.shortcuts: dict[tuple[str, str | None], Shortcut] = {}

    def get(self, key: tuple) -> Entry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def forget_replies(self, snapshot: Snapshot) -> None:
        """Pages showing citizens' replies leave memory as soon as the replies change (a withdrawal, an
        erasure): unreachable under the new version, they must not wait for the LRU to push them out."""
        version = snapshot.version(REPLIES)
        if version == self.replies_version:
            return
        self.replies_version = version
        for key in [k for k in self.entries if k[0][0] in REPLY_ROUTES]:
            self.bytes -= self.entries.pop(key).size

    def put(self, key: tuple, entry: Entry) -> None:
        if entry.size > self.max_bytes:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= old.size
        self.entries[key] = entry
        self.bytes += entry.size
        while self.bytes > self.max_bytes:
            _, dropped = self.entries.popitem(last=False)
            self.bytes -= dropped.size

    def remember(self, request: web.BaseRequest, full_key: tuple, known: Snapshot) -> None:
        if "Cookie" in request.headers:
            return
        if len(self.shortcuts) >= MAX_SHORTCUTS:
            self.shortcuts.clear()
        self.shortcuts[(request.path_qs, request.headers.get("Accept"))] = Shortcut(
            full_key, known.version(INSTANCE), tuple(known.version(s) for s in PEOPLE))

    async def shortcut(self, request: web.BaseRequest) -> Entry | None:
        """The entry a request without cookies would be answered from, or None: the handlers decide."""
        if request.method not in ("GET", "HEAD") or "Cookie" in request.headers or not self.shortcuts:
            return None
        found = self.shortcuts.get((request.path_qs, request.headers.get("Accept")))
        if found is None:
            return None
        board = self.board
        known = board.snapshot if board.fresh() else await board.current()
        if known.version(INSTANCE) != found.instance or tuple(known.version(s) for s in PEOPLE) != found.people:
            return None
        return self.get(found.full_key)


@dataclass(frozen=True, slots=True)
class Shortcut:
    full_key: tuple
    instance: int  # the versions when it was made: unchanged, nothing any document shows has changed
    people: tuple[int, ...]  # replies', followers' (`versions.PEOPLE`)


READ_CACHE = web.AppKey("read_cache", ReadCache)
# Set while a miss renders for the cache: the renderer must produce the whole document, not a 304 of its own
# (the cache answers conditionals from what it keeps).
FILLING = web.RequestKey("read_cache_filling", bool)
Render = Callable[[], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Depends:
    """What a document shows: one account's posts and profile, all accounts, shown replies."""

    account: str | None = None
    instance: bool = False
    replies: bool = False
    followers: bool = False  # the count of an account's followers (and of subjects, whose erasure ends follows)

    def versions(self, snapshot: Snapshot) -> tuple[int, ...] | None:
        """None when the account has no row yet: then there is nothing to key by (the render answers 404)."""
        found = []
        if self.account is not None:
            account_id = snapshot.accounts.get(self.account)
            if account_id is None:
                return None
            found.append(snapshot.version(account_id))
        if self.instance:
            found.append(snapshot.version(INSTANCE))
        if self.replies or self.followers:
            found.append(snapshot.version(REPLIES))
        if self.followers:
            found.append(snapshot.version(FOLLOWERS))
        return tuple(found)


async def snapshot(request: web.Request) -> Snapshot:
    return await request.app[READ_CACHE].board.current()


async def answer(request: web.Request, key: tuple, depends: Depends, render: Render) -> web.StreamResponse:
    cache = request.app[READ_CACHE]
    if request.get(USER) is not None or request.method not in ("GET", "HEAD") or not cache.max_bytes:
        metrics.count_read("bypass")
        return await render()
    known = await cache.board.current()
    cache.forget_replies(known)
    versions = depends.versions(known)
    if versions is None:
        metrics.count_read("bypass")
        return await render()
    full_key = (key, versions, current_language())
    entry = cache.get(full_key)
    if entry is None:
        metrics.count_read("miss")
        request[FILLING] = True
        response = await render()
        entry = _entry(response)
        if entry is None:
            return response
        cache.put(full_key, entry)
    else:
        metrics.count_read("hit")
    cache.remember(request, full_key, known)
    return respond(request, entry)


def respond(request: web.BaseRequest, entry: Entry) -> web.Response:
    """The entry's bytes, or a 304 when the request's validators match."""
    headers = request.headers
    # A client echoing the tag it got (the usual case) matches at once; anything else is parsed by the rules.
    if headers.get("If-None-Match") == entry.etag or (
            ("If-None-Match" in headers or "If-Modified-Since" in headers)
            and evaluate(headers, entry.etag, entry.last_modified, method=request.method).not_modified):
        metrics.count_read("not_modified")
        return web.Response(status=304, headers=entry.validators)
    return web.Response(status=entry.status, body=entry.body, headers=entry.served)


def _entry(response: web.StreamResponse) -> Entry | None:
    if not isinstance(response, web.Response) or response.status not in KEPT_STATUSES:
        return None
    body = response.body
    if not isinstance(body, bytes) or "Set-Cookie" in response.headers:
        return None
    if "ETag" not in response.headers:
        response.headers["ETag"] = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    headers = tuple((k, v) for k, v in response.headers.items() if k.lower() not in DROPPED_HEADERS)
    return Entry(response.status, body, headers, response.headers["ETag"], response.last_modified)
