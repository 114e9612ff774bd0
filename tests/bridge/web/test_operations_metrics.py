"""`GET /metrics` as Prometheus scrapes it: the text format parsed back with prometheus-client's own parser,
only for `[metrics] allow`, and never a person's data in a label after a citizen's reply came in."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bridge.app import create_app
from bridge.cli.main import main
from fakes.fediverse import mastodon_follow, mastodon_reply
from support.inbox import CITY, instances, mastodon, network, note_uri, publish, run_jobs, stadt  # noqa: F401
from testkit import write_config

FAMILIES = {"stadtbote_jobs_queued", "stadtbote_jobs_oldest_queued_seconds", "stadtbote_deliveries",
            "stadtbote_inbox_requests", "stadtbote_platform_sends", "stadtbote_http_request_duration_seconds",
            "stadtbote_audit_log_entries"}


async def scrape(client, **headers) -> tuple[int, str]:
    response = await client.get("/metrics", headers=headers)
    return response.status, await response.text()


def samples(text: str) -> dict[str, list]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def value(found: dict[str, list], sample_name: str, **labels) -> float:
    family = next(name for name in found if sample_name.startswith(name))
    return sum(s.value for s in found[family] if s.name == sample_name
               and all(s.labels.get(k) == v for k, v in labels.items()))


async def test_a_scrape_after_a_citizens_reply_counts_it_and_names_nobody(stadt, mastodon):
    before = samples((await scrape(stadt))[1])
    alice = mastodon.add_actor("alice")
    post_id = await publish(stadt)
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(alice, CITY), alice))[0] == 202
    reply = mastodon_reply(alice, note_uri(post_id), CITY, content="<p>Unverwechselbarer Antworttext 4711</p>")
    assert await mastodon.sign_and_post(stadt, reply, alice, path="/users/stadt/inbox") == (
        202, {"status": "reply_stored"})
    queued = samples((await scrape(stadt))[1])
    assert value(queued, "stadtbote_jobs_queued", kind="deliver_direct") == 1  # the Accept, not yet sent
    await run_jobs(stadt)

    status, text = await scrape(stadt)
    assert status == 200
    found = samples(text)
    assert FAMILIES <= set(found)
    for name in ("stadtbote_inbox_requests_total", "stadtbote_deliveries_total"):
        assert name in text
    assert value(found, "stadtbote_inbox_requests_total", reason="reply_stored") == \
        value(before, "stadtbote_inbox_requests_total", reason="reply_stored") + 1
    assert value(found, "stadtbote_inbox_requests_total", reason="follower_added") >= 1
    assert value(found, "stadtbote_deliveries_total", outcome="delivered") == \
        value(before, "stadtbote_deliveries_total", outcome="delivered") + 1
    assert value(found, "stadtbote_jobs_queued", kind="deliver_direct") == 0
    assert value(found, "stadtbote_audit_log_entries") > value(before, "stadtbote_audit_log_entries")
    routes = {s.labels["route"] for s in found["stadtbote_http_request_duration_seconds"] if "route" in s.labels}
    assert {"actor_inbox", "shared_inbox", "metrics"} <= routes
    # No person's data anywhere: not the actor's URI, handle or server, not the reply, not an address.
    # Label values are where a person could leak; sample values are numbers (a timestamp may contain "4711").
    labels = {value for family in text_string_to_metric_families(text) for sample in family.samples
              for value in sample.labels.values()}
    for personal in (alice.uri, "alice", "mastodon.test", "Unverwechselbarer", "4711", "127.0.0.1"):
        assert not [label for label in labels if personal in label], personal
    assert "/users/stadt/inbox" not in text, "route names, never raw paths"


async def test_only_allowed_addresses_may_scrape_and_only_trusted_proxies_may_say_so(aiohttp_client, make_config,
                                                                                     booted):
    outside = await aiohttp_client(create_app(make_config(metrics={"allow": ["10.0.0.0/8"]}), run_worker=False))
    response = await outside.get("/metrics")
    assert response.status == 404 and "stadtbote_" not in await response.text()
    assert (await scrape(outside, **{"X-Forwarded-For": "10.1.2.3"}))[0] == 404, "a forged header counts for nothing"

    proxied = await aiohttp_client(create_app(make_config(metrics={"allow": ["10.0.0.0/8"]},
                                                          instance={"trusted_proxies": ["127.0.0.1"]}),
                                              run_worker=False))
    assert (await scrape(proxied, **{"X-Forwarded-For": "10.1.2.3"}))[0] == 200
    assert (await scrape(proxied, **{"X-Forwarded-For": "203.0.113.9"}))[0] == 404


async def test_by_default_loopback_scrapes_and_the_public_behind_the_proxy_does_not(aiohttp_client, make_config,
                                                                                    booted):
    app = create_app(make_config(instance={"trusted_proxies": ["127.0.0.1"]}), run_worker=False)
    client = await aiohttp_client(app)
    status, text = await scrape(client)
    assert status == 200 and "stadtbote_audit_log_entries" in text
    assert (await scrape(client, **{"X-Forwarded-For": "203.0.113.9"}))[0] == 404
    assert (await scrape(client, **{"X-Forwarded-For": "::1"}))[0] == 200


def test_a_bad_network_in_metrics_allow_is_one_config_line(tmp_path, capsys):
    config = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}",
                          extra='[metrics]\nallow = ["10.0.0.0/33"]\n')
    assert main(["db", "check", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("stadtbote: config error: metrics.allow[0]") and "\n" not in err
