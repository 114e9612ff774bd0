"""Where a request comes from: the client's address and scheme, decided here and nowhere else.

Behind a reverse proxy the TCP peer is the proxy. Its `X-Forwarded-For` and `X-Forwarded-Proto` are
believed only when the peer is one of `[instance] trusted_proxies`; `X-Forwarded-For` is then read from
the right, skipping trusted proxies (as nginx's `real_ip_recursive on`), so whatever a client writes
into the header itself stays to the left of the first untrusted address and is never taken.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from bridge.appkeys import CONFIG

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Client:
    address: str | None  # None when the peer has no IP address (a Unix socket)
    scheme: str  # "http" or "https", as the client reached the first trusted hop

    @property
    def secure(self) -> bool:
        return self.scheme == "https"


CLIENT = web.RequestKey("client", Client)


def resolve(peer: str | None, forwarded_for: Sequence[str], forwarded_proto: Sequence[str], scheme: str,
            trusted: Sequence[Network]) -> Client:
    """The client behind `peer`, given the request's forwarding headers (each a list of header values)."""
    address = parse_address(peer)
    if address is None or not _is_trusted(address, trusted):
        return Client(str(address) if address is not None else None, scheme)
    for hop in reversed([h for value in forwarded_for for h in value.split(",") if h.strip()]):
        parsed = parse_address(hop)
        if parsed is None:
            break  # garbage from beyond the last trusted hop: that hop is the best we know
        address = parsed
        if not _is_trusted(parsed, trusted):
            break
    protos = [p.strip().lower() for value in forwarded_proto for p in value.split(",") if p.strip()]
    # The nearest proxy (trusted, since the peer is) speaks last.
    return Client(str(address), protos[-1] if protos and protos[-1] in SCHEMES else scheme)


def parse_address(value: str | None) -> Address | None:
    """An IP address, also as "[v6]:port" or "v4:port"; IPv4-mapped IPv6 becomes IPv4."""
    text = (value or "").strip()
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


def client_of(request: web.BaseRequest) -> Client:
    """The client as the middleware found it; before it ran (a request that failed to parse), the peer."""
    found = request.get(CLIENT)
    if found is not None:
        return found
    return resolve(request.remote, (), (), request.scheme, ())


@web.middleware
async def client_origin(request: web.Request, handler):
    """First of the middlewares (after the read cache's shortcut, which calls `remember_client` itself):
    everything after it asks `client_of(request)`, never `request.remote`."""
    remember_client(request)
    return await handler(request)


def remember_client(request: web.BaseRequest) -> None:
    request[CLIENT] = resolve(request.remote, request.headers.getall("X-Forwarded-For", []),
                              request.headers.getall("X-Forwarded-Proto", []), request.scheme,
                              request.app[CONFIG].instance.trusted_proxies)
