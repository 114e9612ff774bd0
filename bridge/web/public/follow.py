"""Share links and "follow from your own server", without contacting anyone before the reader clicks.

Share links are plain links (Shariff-style, no counters, no scripts). Following works as on Mastodon's
remote-follow page: the reader names their server, we answer 303 to its `authorize_interaction`
endpoint with our URI, and their server takes it from there. Nothing is stored; the instance name is
sent in the query string, which the access log never records.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from aiohttp import web

from bridge.appkeys import CONFIG, SESSIONS
from bridge.store.models import PostState
from bridge.publishing import timeline
from bridge.web.messages import N_
from bridge.web.public.views import ROBOTS_NOINDEX, int_cursor, not_found, public_page, uris_for

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_HOST = 253


class HostReason(enum.StrEnum):
    OK = "ok"
    EMPTY = "empty"
    INVALID = "invalid"


HOST_TEXT = {
    HostReason.OK: "",
    HostReason.EMPTY: N_("Please enter the address of your server, for example mastodon.social."),
    HostReason.INVALID: N_("This is not a server address. Enter a name like mastodon.social, without spaces."),
}


@dataclass(frozen=True)
class HostCheck:
    reason: HostReason
    host: str = ""

    @property
    def description(self) -> str:
        return HOST_TEXT[self.reason]


@dataclass(frozen=True)
class ShareLink:
    label: str
    url: str


def setup(app: web.Application) -> None:
    app.router.add_get(r"/@{name:[a-z0-9_]{1,30}}/follow", follow, name="public_follow")
    app.router.add_get(r"/@{name:[a-z0-9_]{1,30}}/{post_id:\d{1,19}}/interact", interact, name="public_interact")


def check_host(value: str) -> HostCheck:
    """The reader's server from what they typed: `mastodon.social`, `https://mastodon.social/`,
    `@me@mastodon.social` all give `mastodon.social`. Names only (no IPs, ports or paths)."""
    text = value.strip()
    if not text:
        return HostCheck(HostReason.EMPTY)
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text, flags=re.I).split("/", 1)[0].rsplit("@", 1)[-1]
    try:
        host = text.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return HostCheck(HostReason.INVALID)
    labels = host.split(".")
    valid = (len(labels) >= 2 and len(host) <= MAX_HOST and all(_LABEL.match(label) for label in labels)
             and not labels[-1].isdigit())
    return HostCheck(HostReason.OK, host) if valid else HostCheck(HostReason.INVALID)


def authorize_url(host: str, uri: str) -> str:
    return f"https://{host}/authorize_interaction?{urlencode({'uri': uri})}"


async def follow(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    actor_config = request.app[CONFIG].actor(name)
    if actor_config is None:
        return not_found(request, N_("There is no account with this name here."))
    uris = uris_for(request)
    context = {"account": actor_config, "target": uris.actor(name), "back_url": uris.profile(name),
               "action": f"/@{name}/follow", "purpose": "follow"}
    return _answer(request, context)


async def interact(request: web.Request) -> web.StreamResponse:
    name, post_id = request.match_info["name"], int_cursor(request.match_info["post_id"])
    actor_config = request.app[CONFIG].actor(name)
    async with request.app[SESSIONS]() as session:  # an id beyond 64 bits (None) is no post
        post = await timeline.find_post(session, name, post_id) if post_id is not None else None
    if actor_config is None or post is None or post.state != PostState.PUBLISHED:
        return not_found(request, N_("This post does not exist, or it is not public."))
    uris = uris_for(request)
    context = {"account": actor_config, "target": uris.note(name, str(post_id)),
               "back_url": uris.permalink(name, str(post_id)), "action": f"/@{name}/{post_id}/interact",
               "purpose": "interact"}
    return _answer(request, context)


def _answer(request: web.Request, context: dict) -> web.StreamResponse:
    typed = request.query.get("instance")
    if typed is None:  # the form on its own, for readers who arrive without having typed anything
        return public_page(request, "public_follow.html", {**context, "value": "", "problem": None,
                                                           "robots": ROBOTS_NOINDEX})
    check = check_host(typed[:300])
    if check.reason is not HostReason.OK:
        return public_page(request, "public_follow.html", {**context, "value": typed[:300],
                                                           "problem": check.description,
                                                           "robots": ROBOTS_NOINDEX}, status=400)
    raise web.HTTPSeeOther(authorize_url(check.host, context["target"]))


def share_links(url: str, text: str) -> list[ShareLink]:
    """Plain links to each platform's share form: nothing is loaded from them until a reader clicks."""
    short = text[:200]
    return [
        ShareLink(N_("E-mail"), f"mailto:?{urlencode({'subject': short, 'body': url}, quote_via=quote)}"),
        ShareLink("Bluesky", f"https://bsky.app/intent/compose?{urlencode({'text': f'{short} {url}'})}"),
        ShareLink("Facebook", f"https://www.facebook.com/sharer/sharer.php?{urlencode({'u': url})}"),
        ShareLink("LinkedIn", f"https://www.linkedin.com/sharing/share-offsite/?{urlencode({'url': url})}"),
        ShareLink("Telegram", f"https://t.me/share/url?{urlencode({'url': url, 'text': short})}"),
        ShareLink("X", f"https://x.com/intent/post?{urlencode({'url': url, 'text': short})}"),
    ]
