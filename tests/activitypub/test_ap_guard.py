"""SSRF guard: each address class, literal IPs, redirects to private addresses, size caps, timeouts."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.payload import BufferedReaderPayload
from ap_helpers import MapResolver

from activitypub.guard import (
    AddressClass,
    GuardPolicy,
    RequestFailed,
    RequestReason,
    Response,
    classify_address,
    open_guarded_session,
)

# The loopback address our test servers listen on is treated as public; everything else stays guarded.
TEST_PUBLIC = GuardPolicy(allow_http=True, public_overrides=("127.0.0.1/32",), total_timeout=2.0)

ADDRESS_CLASSES = [
    ("127.0.0.1", AddressClass.LOOPBACK),
    ("127.8.9.10", AddressClass.LOOPBACK),
    ("10.1.2.3", AddressClass.PRIVATE),
    ("172.16.0.1", AddressClass.PRIVATE),
    ("172.31.255.254", AddressClass.PRIVATE),
    ("192.168.1.1", AddressClass.PRIVATE),
    ("169.254.169.254", AddressClass.LINK_LOCAL),
    ("::1", AddressClass.LOOPBACK),
    ("fc00::1", AddressClass.PRIVATE),
    ("fd12:3456::1", AddressClass.PRIVATE),
    ("fe80::1", AddressClass.LINK_LOCAL),
    ("::ffff:127.0.0.1", AddressClass.IPV4_MAPPED),
    ("::ffff:8.8.8.8", AddressClass.IPV4_MAPPED),
    ("2002:7f00:1::", AddressClass.SIX_TO_FOUR),  # 6to4 around 127.0.0.1
    ("2002:a00:1::", AddressClass.SIX_TO_FOUR),  # 10.0.0.1
    ("2002:a9fe:a9fe::1", AddressClass.SIX_TO_FOUR),  # 169.254.169.254, the cloud metadata address
    ("2002:808:808::", AddressClass.SIX_TO_FOUR),  # even a public IPv4 address: a relay does the rest
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", AddressClass.TEREDO),
    ("2001::80ff:fefe", AddressClass.TEREDO),  # Teredo client 127.0.1.1
    ("0.0.0.0", AddressClass.UNSPECIFIED),
    ("::", AddressClass.UNSPECIFIED),
    ("224.0.0.1", AddressClass.MULTICAST),
    ("ff02::1", AddressClass.MULTICAST),
    ("240.0.0.1", AddressClass.RESERVED),
    ("100.64.0.1", AddressClass.RESERVED),
]


@pytest.mark.parametrize("address, expected", ADDRESS_CLASSES)
def test_address_classes(address, expected):
    assert classify_address(address) is expected
    assert GuardPolicy().address_class(address) is expected
    assert GuardPolicy(allow_private=True).address_class(address) is AddressClass.PUBLIC


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "1.1.1.1"])
def test_public_addresses_are_public(address):
    assert classify_address(address) is AddressClass.PUBLIC


@pytest.mark.parametrize("address, _", ADDRESS_CLASSES)
async def test_host_resolving_to_each_class_is_refused(address, _):
    resolver = MapResolver({"evil.example": (address, 80)})
    session = open_guarded_session(TEST_PUBLIC if address != "127.0.0.1" else GuardPolicy(allow_http=True),
                                   resolver=resolver)
    try:
        result = await session.request("GET", "http://evil.example/")
    finally:
        await session.close()
    assert isinstance(result, RequestFailed)
    assert result.reason is RequestReason.REFUSED_ADDRESS, result
    assert resolver.asked == ["evil.example"]


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
                                 "http://[2002:7f00:1::]/", "http://[2001::80ff:fefe]/",
                                 "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/", "http://[fe80::1]/"])
async def test_literal_private_addresses_are_refused_without_connecting(url):
    session = open_guarded_session(GuardPolicy(allow_http=True))
    try:
        result = await session.request("GET", url)
    finally:
        await session.close()
    assert isinstance(result, RequestFailed) and result.reason is RequestReason.REFUSED_ADDRESS


@pytest.mark.parametrize("url", ["http://remote.example/", "ftp://remote.example/", "file:///etc/passwd", "//x", "https://"])
async def test_only_https_by_default(url):
    session = open_guarded_session(GuardPolicy())
    try:
        result = await session.request("GET", url)
    finally:
        await session.close()
    assert isinstance(result, RequestFailed) and result.reason is RequestReason.REFUSED_SCHEME


@pytest.fixture
async def remote(aiohttp_server):
    hits: list[str] = []

    async def record(request):
        hits.append(request.path)

    async def start(request):
        await record(request)
        raise web.HTTPFound(request.query["to"])

    async def ok(request):
        await record(request)
        return web.Response(text="ok")

    async def secret(request):
        await record(request)
        return web.Response(text="internal secret")

    async def huge(request):
        return web.Response(body=b"x" * (1_048_576 + 1))

    async def streamed(request):
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(40):
            await response.write(b"y" * 65536)
        return response

    async def slow(request):
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def loop(request):
        raise web.HTTPFound("/loop")

    async def echo(request):  # what arrived, as a peer sees it: the declared length, chunking, the bytes
        data = await request.read()
        return web.json_response({"length": request.content_length, "type": request.content_type,
                                  "chunked": "chunked" in request.headers.get("Transfer-Encoding", ""),
                                  "size": len(data), "head": data[:16].decode("latin-1")})

    app = web.Application()
    app.router.add_get("/start", start)
    app.router.add_get("/ok", ok)
    app.router.add_get("/secret", secret)
    app.router.add_get("/huge", huge)
    app.router.add_get("/streamed", streamed)
    app.router.add_get("/slow", slow)
    app.router.add_get("/loop", loop)
    app.router.add_post("/echo", echo)
    server = await aiohttp_server(app, host="127.0.0.1")
    resolver = MapResolver({
        "remote.example": ("127.0.0.1", server.port),
        "internal.example": ("127.0.0.2", server.port),  # same machine, but not in the test-public set
    })
    session = open_guarded_session(TEST_PUBLIC, resolver=resolver)
    yield session, server.port, hits
    await session.close()


async def test_allowed_host_is_fetched(remote):
    session, _, hits = remote
    result = await session.request("GET", "http://remote.example/ok")
    assert isinstance(result, Response) and result.status == 200 and result.body == b"ok"


async def test_redirect_to_allowed_host_is_followed_and_recorded(remote):
    session, port, _ = remote
    result = await session.request("GET", "http://remote.example/start?to=http://remote.example/ok")
    assert isinstance(result, Response) and result.body == b"ok"
    assert result.redirected_from == ("http://remote.example/start?to=http://remote.example/ok",)


@pytest.mark.parametrize("target", ["http://internal.example:{port}/secret", "http://127.0.0.2:{port}/secret",
                                    "http://10.0.0.5/secret", "http://[::1]:{port}/secret", "file:///etc/passwd"])
async def test_redirect_from_allowed_host_to_private_target_is_refused(remote, target):
    session, port, hits = remote
    result = await session.request("GET", f"http://remote.example/start?to={target.format(port=port)}")
    assert isinstance(result, RequestFailed)
    assert result.reason in (RequestReason.REFUSED_ADDRESS, RequestReason.REFUSED_SCHEME)
    assert "/secret" not in hits


async def test_redirect_loops_end(remote):
    session, _, _ = remote
    result = await session.request("GET", "http://remote.example/loop")
    assert isinstance(result, RequestFailed) and result.reason is RequestReason.TOO_MANY_REDIRECTS


@pytest.mark.parametrize("path", ["/huge", "/streamed"])
async def test_bodies_over_one_megabyte_are_refused(remote, path):
    session, _, _ = remote
    result = await session.request("GET", f"http://remote.example{path}")
    assert isinstance(result, RequestFailed) and result.reason is RequestReason.TOO_LARGE


async def test_slow_answers_time_out(aiohttp_server, remote):
    session, port, _ = remote
    quick = open_guarded_session(GuardPolicy(allow_http=True, public_overrides=("127.0.0.1/32",), total_timeout=0.3),
                                 resolver=MapResolver({"remote.example": ("127.0.0.1", port)}))
    try:
        result = await quick.request("GET", "http://remote.example/slow")
    finally:
        await quick.close()
    assert isinstance(result, RequestFailed) and result.reason is RequestReason.TIMEOUT


async def test_unknown_host_is_a_connection_failure(remote):
    session, _, _ = remote
    result = await session.request("GET", "http://nowhere.example/")
    assert isinstance(result, RequestFailed) and result.reason is RequestReason.CONNECTION_FAILED


@pytest.mark.parametrize("address", ["2002:7f00:1::", "2002:a00:1::", "2002:c0a8:101::1", "2001::80ff:fefe",
                                     "2001:0:4136:e378:8000:63bf:3fff:fdd2"])
async def test_6to4_and_teredo_addresses_are_refused_like_ipv4_mapped_ones(address):
    resolver = MapResolver({"tunnel.example": (address, 80)})
    session = open_guarded_session(GuardPolicy(allow_http=True), resolver=resolver)
    try:
        by_name = await session.request("GET", "http://tunnel.example/")
        literal = await session.request("GET", f"http://[{address}]/")
    finally:
        await session.close()
    assert isinstance(by_name, RequestFailed) and by_name.reason is RequestReason.REFUSED_ADDRESS, by_name
    assert isinstance(literal, RequestFailed) and literal.reason is RequestReason.REFUSED_ADDRESS, literal
    assert classify_address(address) is not AddressClass.PUBLIC


async def closed_soon(f, seconds: float = 10.0) -> bool:
    """aiohttp closes a payload's file in its executor: wait for that (a loaded machine may take a while)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not f.closed and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    return f.closed


async def test_a_file_body_is_streamed_with_its_length_and_closed(remote, tmp_path):
    session, _, _ = remote
    path = tmp_path / "clip.bin"
    path.write_bytes(b"0123456789abcdef" * 4096)
    f = open(path, "rb")
    body = BufferedReaderPayload(f, filename=None, content_type="video/mp4")
    result = await session.request("POST", "http://remote.example/echo", body=body)
    assert isinstance(result, Response) and result.status == 200
    assert json.loads(result.body) == {"length": 65536, "type": "video/mp4", "chunked": False, "size": 65536,
                                       "head": "0123456789abcdef"}
    assert await closed_soon(f)


async def test_a_form_body_is_sent_as_multipart_with_its_length(remote):
    session, _, _ = remote
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("description", "Ein Video")
    form.add_field("file", b"x" * 1000, filename="video.mp4", content_type="video/mp4")
    result = await session.request("POST", "http://remote.example/echo", body=form)
    answer = json.loads(result.body)
    assert answer["type"] == "multipart/form-data" and not answer["chunked"]
    assert answer["length"] == answer["size"] > 1000


async def test_a_refused_address_closes_a_file_body_unsent(remote, tmp_path):
    session, _, _ = remote
    path = tmp_path / "clip.bin"
    path.write_bytes(b"secret")
    f = open(path, "rb")
    result = await session.request("POST", "http://10.0.0.1/upload", body=BufferedReaderPayload(f, filename=None))
    assert isinstance(result, RequestFailed) and result.reason is RequestReason.REFUSED_ADDRESS
    assert await closed_soon(f)


async def test_a_signed_request_takes_its_body_only_as_bytes(remote):
    session, _, _ = remote
    with pytest.raises(TypeError, match="bytes"):
        await session.request("POST", "http://remote.example/echo", body=aiohttp.FormData({"a": "b"}),
                              sign=lambda method, url, body: {})
