"""Fake remote fediverse servers for tests: one aiohttp test server per instance, reached by host name.

`Network` is the resolver that maps host names (`mastodon.test`, `gts.test`, and our own `stadt.test`) to
local test servers; pass it to `create_app(..., resolver=network)`. A `FakeInstance` serves its actors
(with keys, inboxes, a shared inbox unless it is GoToSocial) and any document a test registers, signs
what it sends to us as its software does (draft-cavage, rsa-sha256: Mastodon signs
`(request-target) host date digest content-type`, GoToSocial `(request-target) host date digest` with a
`/main-key` keyId), and records everything POSTed to it, verifying the signature *independently* of
`activitypub/` — with `cryptography` against the sender's key fetched from the sender.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KEYS = Path(__file__).resolve().parents[1] / "fixtures" / "keys"
PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
AP_TYPE = "application/activity+json"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
MASTODON_HEADERS = ("(request-target)", "host", "date", "digest", "content-type")
GOTOSOCIAL_HEADERS = ("(request-target)", "host", "date", "digest")
_generated: list[rsa.RSAPrivateKey] = []


def fixed_key(index: int) -> rsa.RSAPrivateKey:
    """The fixed test keys first, then keys generated once per run (RSA generation is slow)."""
    fixed = [KEYS / "test_rsa_private.pem", KEYS / "test_rsa_2_private.pem"]
    if index < len(fixed):
        return serialization.load_pem_private_key(fixed[index].read_bytes(), password=None)
    while len(_generated) <= index - len(fixed):
        _generated.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _generated[index - len(fixed)]


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class Network:
    """Resolver (aiohttp's AbstractResolver shape): host name -> a local test server's address and port."""

    def __init__(self) -> None:
        self.mapping: dict[str, tuple[str, int]] = {}

    def add(self, host: str, port: int, address: str = "127.0.0.1") -> None:
        self.mapping[host] = (address, port)

    async def resolve(self, host, port=0, family=0):
        if host not in self.mapping:
            raise OSError(f"no such test host {host}")
        address, real_port = self.mapping[host]
        return [{"hostname": host, "host": address, "port": real_port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


@dataclass
class FakeActor:
    instance: "FakeInstance"
    name: str
    path: str
    key: rsa.RSAPrivateKey
    type: str = "Person"
    fields: dict[str, Any] = field(default_factory=dict)
    gone: bool = False  # the account was deleted: its documents answer 410

    @property
    def uri(self) -> str:
        return self.instance.url(self.path)

    @property
    def inbox(self) -> str:
        return f"{self.uri}/inbox"

    @property
    def key_id(self) -> str:
        return f"{self.uri}/main-key" if self.instance.software == "gotosocial" else f"{self.uri}#main-key"

    def public_key(self) -> dict[str, str]:
        return {"id": self.key_id, "owner": self.uri, "publicKeyPem": public_pem(self.key)}

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": self.uri, "type": self.type, "preferredUsername": self.name, "name": self.name.title(),
            "summary": "", "inbox": self.inbox, "outbox": f"{self.uri}/outbox",
            "followers": f"{self.uri}/followers", "url": self.instance.url(f"/@{self.name}"),
            "publicKey": self.public_key(),
        }
        if self.instance.software != "gotosocial":  # GoToSocial has no shared inbox
            doc["endpoints"] = {"sharedInbox": self.instance.url("/inbox")}
        doc.update(self.fields)
        return doc


@dataclass(frozen=True)
class Received:
    path: str
    json: Any
    verified: bool
    key_id: str | None
    signed: tuple[bytes, bytes] | None = None  # (the signing string, the signature) when there was one


def signed_by(public_key_pem: str, received: Received) -> bool:
    """Whether the key of `public_key_pem` made the signature of what was received."""
    return received.signed is not None and _verifies(public_key_pem, *received.signed)


class FakeInstance:
    """One remote server. `software` is "mastodon" (default), "gotosocial", or any other name (signed
    like Mastodon, which Misskey, Pleroma, Lemmy and Pixelfed all match closely enough)."""

    def __init__(self, host: str, network: Network, software: str = "mastodon") -> None:
        self.host, self.network, self.software = host, network, software
        self.actors: dict[str, FakeActor] = {}
        self.documents: dict[str, tuple[int, Any]] = {}
        self.received: list[Received] = []
        self.fetched: list[tuple[str, bool]] = []  # (path, signed) of every GET we answered
        self.fetch_headers: list[tuple[str, dict[str, str]]] = []  # (path, headers in lower case) of those GETs
        # Statuses (with optional headers) to answer the next POSTs with, e.g. a 503 then a 410.
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.delay = 0.0  # seconds before answering a POST: a slow server
        self.answered = 0
        # Keys of senders, cached as Mastodon caches them (None: fetched for every POST). With a cache, a
        # signature that fails with the cached key makes the server fetch the key once more and try again.
        self.key_cache: dict[str, str] | None = None
        self.key_fetches: list[str] = []  # key ids this server fetched from senders, in order
        self.server: TestServer | None = None
        self._key_index = 0

    async def start(self, key_offset: int = 0) -> "FakeInstance":
        self._key_index = key_offset
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._get)
        app.router.add_post("/{tail:.*}", self._post)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        self.network.add(self.host, self.server.port)
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def add_actor(self, name: str, *, type: str = "Person", path: str | None = None, key_index: int | None = None,
                  **fields: Any) -> FakeActor:
        if key_index is None:
            key_index, self._key_index = self._key_index, self._key_index + 1
        actor = FakeActor(self, name, path or f"/users/{name}", fixed_key(key_index), type, dict(fields))
        self.actors[actor.path] = actor
        return actor

    def serve(self, uri_or_path: str, document: Any, status: int = 200) -> None:
        """Serve a document (a note, an activity) at a URL of this instance."""
        self.documents[urlsplit(uri_or_path).path if "://" in uri_or_path else uri_or_path] = (status, document)

    # ------------------------------------------------------------ what we serve and receive

    async def _get(self, request: web.Request) -> web.Response:
        path = request.path
        self.fetched.append((path, "Signature" in request.headers))
        self.fetch_headers.append((path, {k.lower(): v for k, v in request.headers.items()}))
        if path == "/.well-known/webfinger":
            return self._webfinger(request.query.get("resource", ""))
        actor = self.actors.get(path) or self.actors.get(path.removesuffix("/main-key"))
        if actor is not None:
            if actor.gone:
                return web.json_response({"error": "Gone"}, status=410)
            document = actor.document()
            if path.endswith("/main-key"):  # GoToSocial's key stub: a minimal actor carrying the key
                document = {k: document[k] for k in ("@context", "id", "type", "preferredUsername", "publicKey")}
            return web.json_response(document, content_type=AP_TYPE)
        status, document = self.documents.get(path, (404, {"error": "Record not found"}))
        return web.json_response(document, status=status, content_type=AP_TYPE if status == 200 else None)

    def _webfinger(self, resource: str) -> web.Response:
        """RFC 7033 as Mastodon answers it: the actor id as `self`, the profile page beside it."""
        user, _, host = resource.removeprefix("acct:").partition("@")
        actor = next((a for a in self.actors.values() if a.name == user and not a.gone), None)
        if host != self.host or actor is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response({"subject": f"acct:{user}@{host}", "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": self.url(f"/@{user}")},
            {"rel": "self", "type": "application/activity+json", "href": actor.uri}]},
            content_type="application/jrd+json")

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.read()
        verified, key_id, signed = await self._verify(request, body)
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        self.received.append(Received(request.path, document, verified, key_id, signed))
        if verified:
            self._take_key_from_update(document)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.answered += 1
        if self.answers:
            status, headers = self.answers.pop(0)
            return web.Response(status=status, headers=headers)
        return web.Response(status=202 if verified else 401)

    async def _verify(self, request: web.Request, body: bytes
                      ) -> tuple[bool, str | None, tuple[bytes, bytes] | None]:
        params = parse_signature_header(request.headers.get("Signature", ""))
        key_id, names = params.get("keyid"), params.get("headers", "date").split()
        if not key_id or "signature" not in params or "digest" not in names:
            return False, key_id, None
        lines = [f"(request-target): post {request.path_qs}" if n == "(request-target)"
                 else f"{n}: {request.headers.get(n, '')}" for n in names]
        signed = ("\n".join(lines).encode(), base64.b64decode(params["signature"]))
        expected = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        sent = parsedate_to_datetime(request.headers.get("Date", "Thu, 01 Jan 1970 00:00:00 GMT"))
        if request.headers.get("Digest") != expected or abs(datetime.now(timezone.utc) - sent) > timedelta(hours=1):
            return False, key_id, signed
        cached = self.key_cache.get(key_id) if self.key_cache is not None else None
        if cached is not None and _verifies(cached, *signed):
            return True, key_id, signed
        pem = await self.fetch_key(key_id)  # not cached, or the cached key failed: Mastodon fetches once more
        if pem is None:
            return False, key_id, signed
        if self.key_cache is not None:
            self.key_cache[key_id] = pem
        return _verifies(pem, *signed), key_id, signed

    def _take_key_from_update(self, document: Any) -> None:
        """Mastodon stores the key an actor's own `Update` of itself carries."""
        if self.key_cache is None or not isinstance(document, dict) or document.get("type") != "Update":
            return
        actor = document.get("object")
        key = actor.get("publicKey") if isinstance(actor, dict) and actor.get("id") == document.get("actor") else None
        if isinstance(key, dict) and key.get("owner") == document.get("actor") and key.get("publicKeyPem"):
            self.key_cache[key["id"]] = key["publicKeyPem"]

    async def fetch_key(self, key_id: str) -> str | None:
        """The sender's public key, fetched from the sender (our server, through the network)."""
        self.key_fetches.append(key_id)
        connector = aiohttp.TCPConnector(resolver=self.network)
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.get(key_id.partition("#")[0], headers={"Accept": AP_TYPE}) as response:
                if response.status != 200:
                    return None
                document = await response.json(content_type=None)
        key = document.get("publicKey") or {}
        return key.get("publicKeyPem") if key.get("id") == key_id else None

    # ------------------------------------------------------------ what we send

    def signed_headers(self, actor: FakeActor, url: str, body: bytes, *, date: datetime | None = None,
                       key: rsa.RSAPrivateKey | None = None, key_id: str | None = None,
                       names: tuple[str, ...] | None = None, digest_of: bytes | None = None) -> dict[str, str]:
        """Headers of a signed POST as this instance's software sends them (overridable for negative tests)."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            "host": parts.netloc, "date": format_datetime(date or datetime.now(timezone.utc), usegmt=True),
            "digest": "SHA-256=" + base64.b64encode(hashlib.sha256(body if digest_of is None else digest_of)
                                                    .digest()).decode(),
            "content-type": AP_TYPE,
        }
        names = names or (GOTOSOCIAL_HEADERS if self.software == "gotosocial" else MASTODON_HEADERS)
        text = "\n".join(f"(request-target): post {target}" if n == "(request-target)" else f"{n}: {headers[n]}"
                         for n in names)
        signature = base64.b64encode((key or actor.key).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()))
        headers["signature"] = (f'keyId="{key_id or actor.key_id}",algorithm="rsa-sha256",'
                                f'headers="{" ".join(names)}",signature="{signature.decode()}"')
        return {name.title(): value for name, value in headers.items()}

    async def sign_and_post(self, target: TestClient | str, activity: Any, actor: FakeActor, *,
                            path: str = "/inbox", body: bytes | None = None,
                            headers: dict[str, str] | None = None, **signing: Any) -> tuple[int, Any]:
        """POST `activity` signed by `actor` to our server (a TestClient, or a base URL reached through
        the network). `headers` replaces the signed headers (None: sign normally). Returns (status, json)."""
        url = str(target.make_url(path)) if isinstance(target, TestClient) else f"{target.rstrip('/')}{path}"
        payload = body if body is not None else json.dumps(activity).encode()
        sent = headers if headers is not None else self.signed_headers(actor, url, payload, **signing)
        connector = aiohttp.TCPConnector(resolver=self.network, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.post(url, data=payload, headers=sent) as response:
                text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


def _verifies(public_key_pem: str, text: bytes, signature: bytes) -> bool:
    key = serialization.load_pem_public_key(public_key_pem.encode())
    try:
        key.verify(signature, text, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


_PARAM = re.compile(r'([A-Za-z]+)="([^"]*)"')


def parse_signature_header(value: str) -> dict[str, str]:
    return {name.lower(): raw for name, raw in _PARAM.findall(value)}


# ------------------------------------------------------------ activities as each software shapes them


def load_payload(name: str, replacements: dict[str, str]) -> dict[str, Any]:
    """A recorded-style payload from tests/fixtures/payloads (or its `inbox/` folder), with host names
    and ids replaced so that it points at the test servers."""
    path = PAYLOADS / f"{name}.json"
    if not path.exists():
        path = PAYLOADS / "inbox" / f"{name}.json"
    text = path.read_text(encoding="utf-8")
    for old, new in replacements.items():
        text = text.replace(old, new)
    return json.loads(text)


def mastodon_follow(actor: FakeActor, target: str, number: int = 1) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, "id": actor.instance.url(f"/follows/{actor.name}/{number}"), "type": "Follow",
            "actor": actor.uri, "object": target}


def mastodon_reply(actor: FakeActor, in_reply_to: str, mention: str, number: int = 1,
                   content: str = "<p>Danke!</p>") -> dict[str, Any]:
    note_id = f"{actor.uri}/statuses/{number}"
    note = {"id": note_id, "type": "Note", "attributedTo": actor.uri, "inReplyTo": in_reply_to,
            "content": content, "to": [PUBLIC], "cc": [f"{actor.uri}/followers", mention],
            "tag": [{"type": "Mention", "href": mention, "name": "@stadt"}],
            "published": "2026-01-01T10:00:00Z", "url": actor.instance.url(f"/@{actor.name}/{number}")}
    return {"@context": AS_CONTEXT, "id": f"{note_id}/activity", "type": "Create", "actor": actor.uri,
            "to": note["to"], "cc": note["cc"], "object": note}


def undo(actor: FakeActor, activity: dict[str, Any]) -> dict[str, Any]:
    inner = {k: v for k, v in activity.items() if k != "@context"}
    return {"@context": AS_CONTEXT, "id": f"{activity['id']}/undo", "type": "Undo", "actor": actor.uri,
            "object": inner}
