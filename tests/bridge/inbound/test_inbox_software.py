"""Payload shapes of Mastodon, GoToSocial, Misskey, Pleroma/Akkoma, Lemmy and Pixelfed, each sent by a fake
server of that name, signed as that software signs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bridge.appkeys import SESSIONS
from consent.interactions import count_for
from consent.models import Reply
from fakes.fediverse import load_payload
from support.inbox import CITY, STADT, instances, network, note_uri, publish, run_jobs, stadt  # noqa: F401

# (payload, host, software, actor path, answer)
CASES = [
    ("mastodon_reply_1", "mastodon", "mastodon", "/users/alice", "reply_stored"),
    ("mastodon_like_1", "mastodon", "mastodon", "/users/alice", "interaction_added"),
    ("mastodon_announce_1", "mastodon", "mastodon", "/users/alice", "interaction_added"),
    ("mastodon_flag_1", "mastodon", "mastodon", "/actor", "report_received"),
    ("mastodon_move_1", "mastodon", "mastodon", "/users/alice", "ignored_type"),
    ("mastodon_spoofed_create_1", "mastodon", "mastodon", None, "unsupported"),
    ("gotosocial_reply_1", "gts", "gotosocial", "/users/carla", "reply_stored"),
    ("gotosocial_announce_1", "gts", "gotosocial", "/users/carla", "interaction_added"),
    ("gotosocial_like_1", "gts", "gotosocial", "/users/carla", "interaction_added"),
    ("misskey_reply_1", "misskey", "misskey", "/users/9xyz", "reply_stored"),
    ("misskey_like_1", "misskey", "misskey", "/users/9xyz", "interaction_added"),
    ("pleroma_reply_1", "pleroma", "pleroma", "/users/bob", "reply_stored"),
    ("akkoma_emojireact_1", "akkoma", "akkoma", "/users/cat", "interaction_added"),
    ("pixelfed_reply_1", "pixelfed", "pixelfed", "/users/erik", "reply_stored"),
    ("pixelfed_like_1", "pixelfed", "pixelfed", "/users/erik", "interaction_added"),
    ("threads_reply_1", "threads", "threads", None, "reply_stored"),
]


def hosts(post_id: int) -> dict[str, str]:
    replacements = {"https://city.example/users/stadt/statuses/1001": note_uri(post_id),
                    "https://city.example": STADT}
    for name in ("mastodon", "gts", "misskey", "pleroma", "akkoma", "pixelfed", "lemmy"):
        replacements[f"https://{name}.example"] = f"http://{name}.test"
    replacements["https://www.threads.net"] = "http://threads.test"
    replacements["https://threads.net"] = "http://threads.test"
    return replacements


@pytest.mark.parametrize("payload, host, software, path, answer", CASES)
async def test_each_software_shape_is_understood(stadt, instances, payload, host, software, path, answer):
    post_id = await publish(stadt)
    activity = load_payload(payload, hosts(post_id))
    server = await instances(f"{host}.test", software)
    actor_path = path or activity["actor"].removeprefix(f"http://{host}.test")
    actor = server.add_actor(actor_path.rstrip("/").rsplit("/", 1)[-1], path=actor_path)
    status, body = await server.sign_and_post(stadt, activity, actor)
    assert (status, body) == (202, {"status": answer})


async def test_gotosocial_follow_with_a_main_key_stub_gets_an_accept_at_the_personal_inbox(stadt, instances):
    gts = await instances("gts.test", "gotosocial")
    carla = gts.add_actor("carla")
    follow = load_payload("gotosocial_follow_1", hosts(0))
    assert await gts.sign_and_post(stadt, follow, carla) == (202, {"status": "follower_added"})
    await run_jobs(stadt)
    [accept] = gts.received
    assert accept.path == "/users/carla/inbox" and accept.verified
    assert accept.json["object"]["id"] == follow["id"]
    assert ("/users/carla/main-key", True) in gts.fetched


async def test_misskey_follow_then_pleroma_delete_of_a_reply(stadt, instances):
    post_id = await publish(stadt)
    misskey = await instances("misskey.test", "misskey")
    misskey_user = misskey.add_actor("9xyz")
    assert (await misskey.sign_and_post(stadt, load_payload("misskey_follow_1", hosts(post_id)), misskey_user))[1] \
        == {"status": "follower_added"}
    pleroma = await instances("pleroma.test", "pleroma")
    bob = pleroma.add_actor("bob")
    reply = load_payload("pleroma_reply_1", {**hosts(post_id), "https://city.example/objects/1001": note_uri(post_id)})
    reply["object"]["inReplyTo"] = note_uri(post_id)
    assert (await pleroma.sign_and_post(stadt, reply, bob))[1] == {"status": "reply_stored"}
    assert (await pleroma.sign_and_post(stadt, load_payload("pleroma_delete_note_1", hosts(post_id)), bob))[1] \
        == {"status": "reply_erased"}


async def test_lemmy_group_announce_of_a_comment_is_trusted_only_after_fetching_it(stadt, instances):
    await publish(stadt)
    lemmy = await instances("lemmy.test", "lemmy")
    group = lemmy.add_actor("stadtleben", type="Group", path="/c/stadtleben", key_index=0)
    lemmy.add_actor("dora", path="/u/dora", key_index=1)
    announce = load_payload("lemmy_announce_create_1", hosts(0))
    comment = announce["object"]["object"]
    status, body = await lemmy.sign_and_post(stadt, announce, group)
    assert (status, body) == (202, {"status": "object_fetch_failed"})  # not served yet: not trusted

    lemmy.serve(comment["id"], {**comment, "content": "<p>Die echte Fassung</p>"})
    announce["id"] += "-again"
    assert await lemmy.sign_and_post(stadt, announce, group) == (202, {"status": "reply_stored"})
    async with stadt.app[SESSIONS]() as session:
        assert await session.scalar(select(func.count()).select_from(Reply)) == 1
    assert ("/comment/321", True) in lemmy.fetched


async def test_lemmy_group_announce_of_a_like_counts_the_fetched_like(stadt, instances):
    post_id = await publish(stadt)
    lemmy = await instances("lemmy.test", "lemmy")
    group = lemmy.add_actor("stadtleben", type="Group", path="/c/stadtleben", key_index=0)
    lemmy.add_actor("dora", path="/u/dora", key_index=1)
    announce = load_payload("lemmy_announce_like_1", {**hosts(post_id), "http://lemmy.test/post/99": note_uri(post_id)})
    like = announce["object"]
    lemmy.serve(like["id"], {"@context": "https://www.w3.org/ns/activitystreams", **like})
    assert await lemmy.sign_and_post(stadt, announce, group) == (202, {"status": "interaction_added"})
    async with stadt.app[SESSIONS]() as session:
        assert (await count_for(session, [post_id]))[post_id]["likes"] == 1
