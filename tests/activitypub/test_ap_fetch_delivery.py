"""Document fetches, key fetches and deliveries against fake remote instances (aiohttp test servers)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from aiohttp import web
from ap_helpers import MapResolver, RecordingKeys

from activitypub.delivery import DeliveryOutcome, classify_status, deliver, parse_retry_after
from activitypub.fetch import FetchReason, Fetched, FetchFailed, fetch_document, is_activitypub_content_type
from activitypub.guard import GuardPolicy, open_guarded_session
from activitypub.keycache import KeyFetchFailed, KeyFetchReason, RemoteKey
from activitypub.keyfetch import DocumentKeyFetcher
from activitypub.signatures import Signer, Verified, verify_request

AP = "application/activity+json"
POLICY = GuardPolicy(allow_http=True, public_overrides=("127.0.0.1/32",), total_timeout=3.0)
INSTANCE_KEY = "http://city.example/users/instance.actor#main-key"


class FakeInstance:
    """A remote server: serves JSON documents by path, and an inbox that verifies signatures and records."""

    def __init__(self, host: str, our_public_pem: str) -> None:
        self.host = host
        self.documents: dict[str, tuple[int, str, bytes]] = {}
        self.inbox_status = 202
        self.inbox_headers: dict[str, str] = {}
        self.received: list[tuple[dict, Verified]] = []
        self.require_signature = False
        self.keys = RecordingKeys({INSTANCE_KEY: RemoteKey(INSTANCE_KEY, "http://city.example/users/instance.actor",
                                                          our_public_pem)})

    def serve(self, path: str, document: dict | bytes, status: int = 200, content_type: str = AP) -> None:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.documents[path] = (status, content_type, body)

    async def get(self, request: web.Request) -> web.Response:
        if self.require_signature:
            verified = await verify_request("GET", request.path_qs, request.headers, b"", self.keys, scheme="http")
            if not isinstance(verified, Verified):
                return web.Response(status=401, text=verified.reason)
        status, content_type, body = self.documents.get(request.path, (404, "text/plain", b"not found"))
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    async def inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        verified = await verify_request("POST", request.path_qs, request.headers, body, self.keys, scheme="http")
        if not isinstance(verified, Verified):
            return web.Response(status=verified.status, text=verified.reason)
        self.received.append((json.loads(body), verified))
        return web.Response(status=self.inbox_status, headers=self.inbox_headers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/inbox", self.inbox)
        app.router.add_get("/{tail:.*}", self.get)
        return app


@pytest.fixture
async def world(aiohttp_server, public_pem):
    resolver = MapResolver()
    instances = {}
    for host in ("mastodon.example", "gts.example", "other.example"):
        instance = FakeInstance(host, public_pem)
        server = await aiohttp_server(instance.app(), host="127.0.0.1")
        resolver.mapping[host] = ("127.0.0.1", server.port)
        instances[host] = instance
    session = open_guarded_session(POLICY, resolver=resolver)
    yield session, instances
    await session.close()


def actor(host: str, name: str, pem: str, key_id: str | None = None) -> dict:
    actor_id = f"http://{host}/users/{name}"
    return {"id": actor_id, "type": "Person", "inbox": f"http://{host}/inbox",
            "publicKey": {"id": key_id or actor_id + "#main-key", "owner": actor_id, "publicKeyPem": pem}}


async def test_fetches_activity_json_document(world, public_pem):
    session, instances = world
    instances["mastodon.example"].serve("/users/alice", actor("mastodon.example", "alice", public_pem))
    result = await fetch_document(session, "http://mastodon.example/users/alice")
    assert isinstance(result, Fetched) and result.document["type"] == "Person"


@pytest.mark.parametrize(
    "content_type, ok",
    [(AP, True), (AP + "; charset=utf-8", True), ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
     ("application/ld+json", False), ("application/json", False), ("text/html", False)],
)
async def test_content_type_rules(world, public_pem, content_type, ok):
    session, instances = world
    instances["mastodon.example"].serve("/users/alice", actor("mastodon.example", "alice", public_pem), content_type=content_type)
    result = await fetch_document(session, "http://mastodon.example/users/alice")
    assert isinstance(result, Fetched) is ok
    if not ok:
        assert result.reason is FetchReason.WRONG_CONTENT_TYPE
    assert is_activitypub_content_type(content_type) is ok


@pytest.mark.parametrize(
    "body, status, reason",
    [
        ({"id": "http://mastodon.example/users/mallory", "type": "Person"}, 200, FetchReason.ID_MISMATCH),
        (b"{not json", 200, FetchReason.INVALID_JSON),
        (b"[1, 2]", 200, FetchReason.INVALID_JSON),
        (b"[" * 100 + b"]" * 100, 200, FetchReason.TOO_DEEP),
        ({"error": "gone"}, 410, FetchReason.GONE),
        ({"error": "boom"}, 500, FetchReason.HTTP_ERROR),
    ],
)
async def test_bad_documents_are_refused_with_reasons(world, body, status, reason):
    session, instances = world
    instances["mastodon.example"].serve("/users/alice", body, status=status)
    result = await fetch_document(session, "http://mastodon.example/users/alice")
    assert isinstance(result, FetchFailed) and result.reason is reason


async def test_missing_document_is_not_found(world):
    session, _ = world
    result = await fetch_document(session, "http://mastodon.example/users/nobody")
    assert isinstance(result, FetchFailed) and result.reason is FetchReason.NOT_FOUND and result.status == 404


async def test_signed_get_for_secure_mode_peers(world, private_pem, public_pem):
    session, instances = world
    remote = instances["gts.example"]
    remote.require_signature = True
    remote.serve("/users/bob", actor("gts.example", "bob", public_pem))
    unsigned = await fetch_document(session, "http://gts.example/users/bob")
    assert isinstance(unsigned, FetchFailed) and unsigned.status == 401
    signer = Signer.from_pem(INSTANCE_KEY, private_pem)
    signed = await fetch_document(session, "http://gts.example/users/bob", signer)
    assert isinstance(signed, Fetched)


async def test_mastodon_fragment_key_is_fetched_from_actor(world, public_pem):
    session, instances = world
    instances["mastodon.example"].serve("/users/alice", actor("mastodon.example", "alice", public_pem))
    key = await DocumentKeyFetcher(session).fetch_key("http://mastodon.example/users/alice#main-key")
    assert isinstance(key, RemoteKey) and key.owner == "http://mastodon.example/users/alice"
    assert key.public_key_pem == public_pem


async def test_gotosocial_path_key_round_trips_through_owner(world, public_pem):
    session, instances = world
    gts = instances["gts.example"]
    key_id = "http://gts.example/users/bob/main-key"
    full = actor("gts.example", "bob", public_pem, key_id=key_id)
    gts.serve("/users/bob", full)
    gts.serve("/users/bob/main-key", {"id": full["id"], "type": "Person", "publicKey": full["publicKey"]})
    key = await DocumentKeyFetcher(session).fetch_key(key_id)
    assert isinstance(key, RemoteKey) and key.owner == "http://gts.example/users/bob"


async def test_key_claiming_owner_on_other_origin_is_refused(world, public_pem):
    session, instances = world
    stub = actor("mastodon.example", "alice", public_pem)
    stub["publicKey"]["owner"] = "http://other.example/users/victim"
    instances["mastodon.example"].serve("/users/alice", stub)
    key = await DocumentKeyFetcher(session).fetch_key("http://mastodon.example/users/alice#main-key")
    assert isinstance(key, KeyFetchFailed) and key.reason is KeyFetchReason.OWNER_MISMATCH


async def test_key_owner_that_does_not_list_the_key_is_refused(world, public_pem, other_public_pem):
    session, instances = world
    gts = instances["gts.example"]
    key_id = "http://gts.example/users/bob/main-key"
    gts.serve("/users/bob", actor("gts.example", "bob", other_public_pem, key_id=key_id))
    gts.serve("/users/bob/main-key", {"id": key_id, "owner": "http://gts.example/users/bob", "publicKeyPem": public_pem})
    key = await DocumentKeyFetcher(session).fetch_key(key_id)
    assert isinstance(key, KeyFetchFailed) and key.reason is KeyFetchReason.OWNER_MISMATCH


async def test_deleted_actor_key_is_gone(world):
    session, instances = world
    instances["mastodon.example"].serve("/users/gone", {"type": "Tombstone"}, status=410)
    key = await DocumentKeyFetcher(session).fetch_key("http://mastodon.example/users/gone#main-key")
    assert isinstance(key, KeyFetchFailed) and key.reason is KeyFetchReason.GONE


ACTIVITY = {"@context": "https://www.w3.org/ns/activitystreams", "id": "http://city.example/a/1", "type": "Create",
            "actor": "http://city.example/users/instance.actor"}


async def test_delivery_is_signed_and_verified_by_the_receiver(world, private_pem):
    session, instances = world
    result = await deliver(session, "http://mastodon.example/inbox", ACTIVITY, INSTANCE_KEY, private_pem)
    assert result.outcome is DeliveryOutcome.DELIVERED and result.status == 202
    received, verified = instances["mastodon.example"].received[0]
    assert received == ACTIVITY
    assert verified.covered == ("(request-target)", "host", "date", "digest", "content-type")


async def test_delivery_signed_with_wrong_key_is_retried(world, other_private_pem):
    session, instances = world
    result = await deliver(session, "http://mastodon.example/inbox", ACTIVITY, INSTANCE_KEY, other_private_pem)
    assert result.outcome is DeliveryOutcome.RETRY and result.status == 401
    assert instances["mastodon.example"].received == []


@pytest.mark.parametrize(
    "status, headers, outcome, after",
    [
        (200, {}, DeliveryOutcome.DELIVERED, None),
        (410, {}, DeliveryOutcome.GONE, None),
        (429, {"Retry-After": "120"}, DeliveryOutcome.RETRY, 120.0),
        (503, {}, DeliveryOutcome.RETRY, None),
        (400, {}, DeliveryOutcome.REJECTED, None),
        (403, {}, DeliveryOutcome.REJECTED, None),
        (501, {}, DeliveryOutcome.REJECTED, None),
        (408, {}, DeliveryOutcome.RETRY, None),
    ],
)
async def test_delivery_outcomes_follow_the_inbox_answer(world, private_pem, status, headers, outcome, after):
    session, instances = world
    instances["mastodon.example"].inbox_status = status
    instances["mastodon.example"].inbox_headers = headers
    result = await deliver(session, "http://mastodon.example/inbox", ACTIVITY, INSTANCE_KEY, private_pem)
    assert result.outcome is outcome and result.status == status and result.retry_after == after


async def test_delivery_to_private_address_is_refused(world, private_pem):
    session, _ = world
    result = await deliver(session, "http://10.0.0.7/inbox", ACTIVITY, INSTANCE_KEY, private_pem)
    assert result.outcome is DeliveryOutcome.REFUSED


async def test_delivery_to_unreachable_host_is_retried(world, private_pem):
    session, _ = world
    result = await deliver(session, "http://nowhere.example/inbox", ACTIVITY, INSTANCE_KEY, private_pem)
    assert result.outcome is DeliveryOutcome.RETRY and result.status is None


def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Sat, 01 Mar 2025 12:05:00 GMT", now) == 300.0
    assert parse_retry_after("Sat, 01 Mar 2025 11:05:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert classify_status(503, "Sat, 01 Mar 2025 12:01:00 GMT", now=now).retry_after == 60.0


async def test_cookies_set_by_a_server_are_never_sent_back(aiohttp_server, public_pem):
    seen: list[str | None] = []

    async def document(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Cookie"))
        response = web.Response(body=json.dumps(actor("cookie.example", "alice", public_pem)),
                                headers={"Content-Type": AP})
        response.set_cookie("tracker", "abc123")
        return response

    app = web.Application()
    app.router.add_get("/users/alice", document)
    server = await aiohttp_server(app, host="127.0.0.1")
    session = open_guarded_session(POLICY, resolver=MapResolver({"cookie.example": ("127.0.0.1", server.port)}))
    try:
        for _ in range(2):
            assert isinstance(await fetch_document(session, "http://cookie.example/users/alice"), Fetched)
    finally:
        await session.close()
    assert seen == [None, None]
