"""The one guarded outbound HTTP client: every fetch and delivery goes through here.

DNS answers are filtered by a resolver wrapper, literal IPs are checked before connecting, the peer
address is checked again once connected, redirects are followed by hand so each hop is re-checked,
bodies are capped while streaming. Private, loopback, link-local, multicast, reserved, unspecified and
IPv6 addresses that carry an IPv4 address (IPv4-mapped, 6to4, Teredo) are refused unless `allow_private`
(development and tests only).
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.payload import Payload
from multidict import CIMultiDict, CIMultiDictProxy

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_BODY = 1_048_576
REDIRECTS = (301, 302, 303, 307, 308)


class AddressClass(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    LOOPBACK = "loopback"
    LINK_LOCAL = "link_local"
    MULTICAST = "multicast"
    RESERVED = "reserved"
    UNSPECIFIED = "unspecified"
    IPV4_MAPPED = "ipv4_mapped"
    SIX_TO_FOUR = "6to4"
    TEREDO = "teredo"


def classify_address(address: IPAddress | str) -> AddressClass:
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        # Each of these reaches an IPv4 address through a relay or the host's own stack
        # (::ffff:127.0.0.1, 2002:7f00:1::, 2001:0:…): refused whichever IPv4 address they carry.
        if ip.ipv4_mapped is not None:
            return AddressClass.IPV4_MAPPED
        if ip.sixtofour is not None:
            return AddressClass.SIX_TO_FOUR
        if ip.teredo is not None:
            return AddressClass.TEREDO
    checks = (
        (ip.is_unspecified, AddressClass.UNSPECIFIED),
        (ip.is_loopback, AddressClass.LOOPBACK),
        (ip.is_link_local, AddressClass.LINK_LOCAL),
        (ip.is_multicast, AddressClass.MULTICAST),
        (ip.is_reserved, AddressClass.RESERVED),
        (ip.is_private, AddressClass.PRIVATE),
        (not ip.is_global, AddressClass.RESERVED),  # CGNAT, documentation, benchmarking, 6to4 relays …
    )
    for matched, address_class in checks:
        if matched:
            return address_class
    return AddressClass.PUBLIC


@dataclass(frozen=True)
class GuardPolicy:
    allow_private: bool = False
    allow_http: bool | None = None  # None: same as allow_private (config `federation.allow_private_addresses`)
    # Networks treated as public although they are not: lets tests reach loopback test servers while
    # everything else stays guarded. Never set from configuration.
    public_overrides: tuple[str, ...] = ()
    max_body: int = MAX_BODY
    max_redirects: int = 5
    connect_timeout: float = 5.0
    total_timeout: float = 20.0
    user_agent: str = "Stadtbote (+https://github.com/stadtbote)"

    @property
    def http_allowed(self) -> bool:
        return self.allow_private if self.allow_http is None else self.allow_http

    def address_class(self, address: str) -> AddressClass:
        """The class that decides: PUBLIC for allowed addresses."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return AddressClass.RESERVED
        if self.allow_private or any(ip in ipaddress.ip_network(net) for net in self.public_overrides):
            return AddressClass.PUBLIC
        return classify_address(ip)


class AddressRefused(OSError):
    """Raised inside the connector when every address of a host is refused."""

    def __init__(self, host: str, classes: tuple[AddressClass, ...]) -> None:
        super().__init__(f"{host} resolves only to refused addresses ({', '.join(classes)})")
        self.classes = classes


class GuardedResolver(AbstractResolver):
    """Wraps any aiohttp resolver (the default one, or a test resolver) and drops refused addresses."""

    def __init__(self, policy: GuardPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else aiohttp.DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        classes = tuple(self._policy.address_class(a["host"]) for a in answers)
        allowed = [a for a, c in zip(answers, classes) if c is AddressClass.PUBLIC]
        if not allowed:
            raise AddressRefused(host, classes)
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class RequestReason(enum.StrEnum):
    REFUSED_ADDRESS = "refused_address"
    REFUSED_SCHEME = "refused_scheme"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    CONNECTION_FAILED = "connection_failed"


@dataclass(frozen=True)
class Response:
    status: int
    url: str  # after redirects
    headers: Mapping[str, str]
    body: bytes
    redirected_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestFailed:
    reason: RequestReason
    description: str
    url: str


RequestResult = Response | RequestFailed
# A body as bytes, or one aiohttp writes itself: a multipart form or a payload such as an opened file, which
# aiohttp reads in chunks in an executor and sends with its Content-Length. Such a stream is one-shot.
Body = bytes | aiohttp.FormData | Payload
HeaderSigner = Callable[[str, str, bytes | None], dict[str, str]]  # (method, url, body) -> headers


@dataclass
class GuardedSession:
    """An aiohttp session whose connector is guarded, plus the policy that built it."""

    http: aiohttp.ClientSession
    policy: GuardPolicy
    _timeout: aiohttp.ClientTimeout = field(init=False)

    def __post_init__(self) -> None:
        self._timeout = aiohttp.ClientTimeout(total=self.policy.total_timeout, connect=self.policy.connect_timeout)

    async def close(self) -> None:
        await self.http.close()

    async def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                      body: Body | None = None, sign: HeaderSigner | None = None, follow_redirects: bool = True,
                      max_body: int | None = None, timeout: float | None = None) -> RequestResult:
        """One guarded request. Redirects of GET/HEAD are followed hop by hop, each re-checked and re-signed.
        `timeout`: seconds for the whole request instead of the policy's (a large upload needs longer).
        A streamed body (form, file) is sent once and closed: a new attempt needs a new body."""
        if sign is not None and body is not None and not isinstance(body, bytes):
            raise TypeError("a signed request needs its body as bytes: the signature covers the body's digest")
        # Only GET/HEAD follow redirects, so a body (which a one-shot stream could not repeat) goes out once.
        follow = follow_redirects and method.upper() in ("GET", "HEAD")
        seen: list[str] = []
        while True:
            result = await self._hop(method, url, headers or {}, body, sign, max_body, timeout)
            if isinstance(result, RequestFailed):
                return result
            location = result.headers.get("Location")
            if result.status not in REDIRECTS or not location or not follow:
                return _with_history(result, seen)
            seen.append(url)
            if len(seen) > self.policy.max_redirects:
                return RequestFailed(RequestReason.TOO_MANY_REDIRECTS, "too many redirects", url)
            url = urljoin(url, location)

    async def _hop(self, method: str, url: str, headers: Mapping[str, str], body: Body | None,
                   sign: HeaderSigner | None, max_body: int | None, timeout: float | None = None) -> RequestResult:
        data = body() if isinstance(body, aiohttp.FormData) else body  # the form as the payload aiohttp would make
        try:
            return await self._send(method, url, headers, data, sign, max_body, timeout)
        finally:
            if isinstance(data, Payload):  # its open files closed whether it went out, failed or was refused
                await data.close()

    async def _send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | Payload | None,
                    sign: HeaderSigner | None, max_body: int | None, timeout: float | None) -> RequestResult:
        refused = check_url(url, self.policy)
        if refused is not None:
            return refused
        signed = sign(method, url, body) if sign and not isinstance(body, Payload) else {}
        sent = {"User-Agent": self.policy.user_agent, **headers, **signed}
        try:
            limit = self._timeout if timeout is None else aiohttp.ClientTimeout(
                total=timeout, connect=self.policy.connect_timeout)
            async with self.http.request(method, url, headers=sent, data=body, allow_redirects=False,
                                         timeout=limit) as resp:
                peer_refused = self._check_peer(resp, url)
                if peer_refused is not None:
                    return peer_refused
                return await _read(resp, url, max_body if max_body is not None else self.policy.max_body)
        except aiohttp.ClientConnectorError as exc:
            return _connect_failure(exc, url)
        except (asyncio.TimeoutError, TimeoutError):
            return RequestFailed(RequestReason.TIMEOUT, "request timed out", url)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return RequestFailed(RequestReason.CONNECTION_FAILED, type(exc).__name__, url)

    def _check_peer(self, resp: aiohttp.ClientResponse, url: str) -> RequestFailed | None:
        # Defence in depth: the connection actually made must also be to an allowed address.
        transport = resp.connection.transport if resp.connection is not None else None
        peer: Any = transport.get_extra_info("peername") if transport is not None else None
        if not peer:
            return None
        address_class = self.policy.address_class(str(peer[0]))
        if address_class is AddressClass.PUBLIC:
            return None
        return RequestFailed(RequestReason.REFUSED_ADDRESS, f"connected to a {address_class} address", url)


def check_url(url: str, policy: GuardPolicy) -> RequestFailed | None:
    """Scheme and literal-IP checks; host names are checked by the resolver."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        return RequestFailed(RequestReason.REFUSED_SCHEME, "malformed URL", url)
    allowed = ("https", "http") if policy.http_allowed else ("https",)
    if parts.scheme not in allowed or not host:
        return RequestFailed(RequestReason.REFUSED_SCHEME, f"scheme {parts.scheme or '(none)'} is not allowed", url)
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None  # a name: the resolver decides
    address_class = policy.address_class(host)
    if address_class is AddressClass.PUBLIC:
        return None
    return RequestFailed(RequestReason.REFUSED_ADDRESS, f"{host} is a {address_class} address", url)


async def _read(resp: aiohttp.ClientResponse, url: str, limit: int) -> RequestResult:
    headers = CIMultiDictProxy(CIMultiDict(resp.headers))
    if limit == 0:  # the caller wants only status and headers (deliveries)
        return Response(resp.status, str(resp.url), headers, b"")
    declared = resp.content_length
    if declared is not None and declared > limit:
        return RequestFailed(RequestReason.TOO_LARGE, f"body of {declared} bytes exceeds {limit}", url)
    chunks: list[bytes] = []
    size = 0
    while chunk := await resp.content.read(65536):
        size += len(chunk)
        if size > limit:
            return RequestFailed(RequestReason.TOO_LARGE, f"body exceeds {limit} bytes", url)
        chunks.append(chunk)
    return Response(resp.status, str(resp.url), headers, b"".join(chunks))


def _connect_failure(exc: aiohttp.ClientConnectorError, url: str) -> RequestFailed:
    if isinstance(exc.os_error, AddressRefused):
        return RequestFailed(RequestReason.REFUSED_ADDRESS, str(exc.os_error), url)
    return RequestFailed(RequestReason.CONNECTION_FAILED, f"cannot connect: {type(exc.os_error).__name__}", url)


def _with_history(result: Response, seen: list[str]) -> Response:
    if not seen:
        return result
    return Response(result.status, result.url, result.headers, result.body, tuple(seen))


def open_guarded_session(policy: GuardPolicy, *, resolver: AbstractResolver | None = None,
                         limit_per_host: int = 8) -> GuardedSession:
    """Create the session (call inside a running loop, e.g. in `create_app`'s cleanup context)."""
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy, resolver), limit_per_host=limit_per_host,
                                     ttl_dns_cache=60)
    # No cookie jar: a server must not be able to recognise our later requests by a cookie it set.
    return GuardedSession(aiohttp.ClientSession(connector=connector, auto_decompress=True,
                                                cookie_jar=aiohttp.DummyCookieJar()), policy)
