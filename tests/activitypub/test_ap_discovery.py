"""Looking up an account by handle: WebFinger's `self` link, then the actor, both through the guard."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from ap_helpers import MapResolver

from activitypub.discovery import LookupFailed, LookupReason, actor_link, look_up_account
from activitypub.guard import GuardPolicy, open_guarded_session
from activitypub.profiles import ActorIn

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


class Server:
    """A remote host that answers WebFinger from a table and serves documents by path."""

    def __init__(self) -> None:
        self.jrd: dict[str, tuple[int, dict]] = {}
        self.documents: dict[str, dict] = {}
        self.asked: list[str] = []

    async def get(self, request: web.Request) -> web.Response:
        self.asked.append(request.path_qs)
        if request.path == "/.well-known/webfinger":
            status, jrd = self.jrd.get(request.query.get("resource", ""), (404, {}))
            return web.Response(status=status, body=json.dumps(jrd), content_type="application/jrd+json")
        if request.path in self.documents:
            return web.Response(body=json.dumps(self.documents[request.path]), content_type=AP)
        return web.Response(status=404)


@pytest.fixture
async def remote(aiohttp_server):
    server = Server()
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.get)
    running = await aiohttp_server(app, host="127.0.0.1")
    resolver = MapResolver({"social.example": ("127.0.0.1", running.port)})

    def session(**policy):
        return open_guarded_session(GuardPolicy(public_overrides=("127.0.0.1/32",), total_timeout=3.0, **policy),
                                    resolver=resolver)
    return server, session


def person(name: str) -> dict:
    uri = f"http://social.example/users/{name}"
    return {"id": uri, "type": "Person", "preferredUsername": name, "inbox": f"{uri}/inbox",
            "endpoints": {"sharedInbox": "http://social.example/inbox"}}


def jrd(href: str, kind: str = AP) -> dict:
    return {"subject": "acct:anna@social.example", "links": [
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "http://social.example/@anna"},
        {"rel": "self", "type": kind, "href": href}]}


async def test_a_handle_leads_to_its_actor(remote):
    server, session = remote
    server.jrd["acct:anna@social.example"] = (200, jrd("http://social.example/users/anna"))
    server.documents["/users/anna"] = person("anna")
    http = session(allow_http=True)
    try:
        found = await look_up_account(http, "@anna@social.example")
    finally:
        await http.close()
    assert isinstance(found, ActorIn) and found.id == "http://social.example/users/anna"
    assert found.shared_inbox == "http://social.example/inbox"
    assert server.asked[0] == "/.well-known/webfinger?resource=acct:anna@social.example"


async def test_plain_http_is_never_tried_unless_the_guard_allows_it(remote):
    server, session = remote
    server.jrd["acct:anna@social.example"] = (200, jrd("http://social.example/users/anna"))
    http = session(allow_http=False)
    try:
        found = await look_up_account(http, "anna@social.example")
    finally:
        await http.close()
    assert isinstance(found, LookupFailed) and found.reason is LookupReason.WEBFINGER_FAILED
    assert server.asked == []  # https failed (the test server speaks http) and nothing else was tried


@pytest.mark.parametrize("answer, reason", [
    ((404, {}), LookupReason.WEBFINGER_FAILED),
    ((200, {"subject": "acct:anna@social.example", "links": "nonsense"}), LookupReason.NO_ACTOR_LINK),
    ((200, jrd("http://social.example/users/anna", kind="text/html")), LookupReason.NO_ACTOR_LINK),
    ((200, jrd("http://social.example/users/nobody")), LookupReason.ACTOR_FETCH_FAILED),
    ((200, jrd("http://10.0.0.1/users/anna")), LookupReason.ACTOR_FETCH_FAILED),  # the guard refuses it
])
async def test_every_failure_has_a_reason(remote, answer, reason):
    server, session = remote
    server.jrd["acct:anna@social.example"] = answer
    http = session(allow_http=True)
    try:
        found = await look_up_account(http, "anna@social.example")
    finally:
        await http.close()
    assert isinstance(found, LookupFailed) and found.reason is reason


@pytest.mark.parametrize("handle", ["anna", "@anna", "anna@", "an na@social.example", "anna@social"])
async def test_what_is_no_handle_is_not_looked_up(remote, handle):
    server, session = remote
    http = session(allow_http=True)
    try:
        found = await look_up_account(http, handle)
    finally:
        await http.close()
    assert isinstance(found, LookupFailed) and found.reason is LookupReason.INVALID_HANDLE and server.asked == []


def test_the_self_link_may_be_ld_json_with_the_activitystreams_profile():
    assert actor_link(jrd("http://a.example/u", kind=LD)) == "http://a.example/u"
    assert actor_link(jrd("http://a.example/u", kind="application/ld+json")) is None
    assert actor_link({"links": [{"rel": "self", "type": AP}]}) is None  # no href
