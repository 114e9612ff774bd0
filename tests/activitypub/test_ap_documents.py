"""Outgoing documents: actor, Note and activities shaped as Mastodon reads them; discovery; sanitising."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activitypub import vocab
from activitypub.actors import ActorInput, ImageRef, actor_document, instance_actor_document, link_field
from activitypub.documents import (
    ResourceName,
    ResourceReason,
    ResourceRejected,
    Usage,
    host_meta,
    nodeinfo,
    nodeinfo_discovery,
    parse_resource,
    webfinger,
)
from activitypub.inbound import CreateNoteIn, FollowIn, parse_activity
from activitypub.notes import Attachment, Mention, NoteInput, QuotePolicy, hashtag_slug, note_document
from activitypub.sanitize import html_to_text, sanitize_html
from activitypub.uris import PUBLIC, Uris

URIS = Uris.for_base("https://city.example")
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
T1 = datetime(2025, 3, 1, 13, 30, tzinfo=timezone.utc)


def test_organization_actor_has_every_field_mastodon_reads(public_pem):
    actor = actor_document(URIS, ActorInput(
        name="stadt", display_name="Stadt Musterstadt", summary_html="<p>Offizielles Konto</p>",
        public_key_pem=public_pem, published=T0, icon=ImageRef("https://city.example/media/logo.png"),
        image=ImageRef("https://city.example/media/header.jpg", "image/jpeg"),
        fields=(link_field("Website", "https://city.example/"), link_field("Impressum", "https://city.example/impressum")),
    ))
    for key in ("name", "summary", "url", "icon", "image", "inbox", "outbox", "followers", "following", "featured",
                "endpoints", "publicKey", "discoverable", "indexable", "manuallyApprovesFollowers", "published",
                "attachment", "preferredUsername"):
        assert key in actor, key
    assert actor["type"] == "Organization"
    assert actor["id"] == "https://city.example/users/stadt"
    assert actor["publicKey"] == {"id": actor["id"] + "#main-key", "owner": actor["id"], "publicKeyPem": public_pem}
    assert actor["endpoints"]["sharedInbox"] == "https://city.example/inbox"
    assert actor["manuallyApprovesFollowers"] is False
    assert actor["published"] == "2025-03-01T12:00:00Z"
    assert actor["attachment"][0]["type"] == "PropertyValue" and 'rel="me' in actor["attachment"][0]["value"]
    context = actor["@context"]
    assert context[:2] == ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
    for term in ("toot", "schema", "PropertyValue", "discoverable", "indexable", "blurhash", "sensitive", "Hashtag",
                 "featured"):
        assert term in context[2], term


def test_instance_actor_is_an_application(public_pem):
    actor = instance_actor_document(URIS, public_pem, T0)
    assert actor["type"] == "Application"
    assert actor["publicKey"]["id"] == URIS.key_id("instance.actor")


def note_input(**changes) -> NoteInput:
    values = dict(
        actor_name="stadt", post_id="1001", content_html="<p>Das Freibad öffnet am Samstag. #Freibad</p>",
        published=T0, language="de", hashtags=("Freibad", "Sommer"),
        mentions=(Mention("https://mastodon.example/users/alice", "@alice@mastodon.example"),),
        attachments=(Attachment("https://city.example/media/bad.jpg", "image/jpeg", "Blaues Becken", 1200, 800,
                                blurhash="LEHV6nWB2yk8"),),
    )
    values.update(changes)
    return NoteInput(**values)


def test_note_has_mastodon_shape():
    note = note_document(URIS, note_input())
    assert note["id"] == URIS.note("stadt", "1001")
    assert note["url"] == URIS.permalink("stadt", "1001")
    assert note["to"] == [PUBLIC]
    assert note["cc"] == [URIS.followers("stadt"), "https://mastodon.example/users/alice"]
    assert note["contentMap"] == {"de": note["content"]}
    assert note["sensitive"] is False and note["summary"] is None
    assert {"type": "Hashtag", "href": "https://city.example/tags/freibad", "name": "#Freibad"} in note["tag"]
    assert {"type": "Mention", "href": "https://mastodon.example/users/alice", "name": "@alice@mastodon.example"} in note["tag"]
    attachment = note["attachment"][0]
    assert attachment == {"type": "Document", "mediaType": "image/jpeg", "url": "https://city.example/media/bad.jpg",
                          "name": "Blaues Becken", "width": 1200, "height": 800, "blurhash": "LEHV6nWB2yk8"}
    assert note["interactionPolicy"] == {"canQuote": {"automaticApproval": [PUBLIC]}}
    assert "updated" not in note


def test_content_warning_and_quote_policy():
    note = note_document(URIS, note_input(summary="Baustelle", quote_policy=QuotePolicy.NOBODY))
    assert note["summary"] == "Baustelle" and note["sensitive"] is True
    assert note["interactionPolicy"]["canQuote"]["automaticApproval"] == [URIS.actor("stadt")]


def test_create_update_delete_round_trip_through_our_own_parser():
    note = note_document(URIS, note_input())
    create = vocab.create(URIS, "stadt", "1001", note)
    assert create["object"]["id"] == note["id"] and "@context" not in create["object"]
    parsed = parse_activity(json.loads(json.dumps(create)))
    assert isinstance(parsed, CreateNoteIn) and parsed.note.hashtags == ("freibad", "sommer")

    edited = note_document(URIS, note_input(content_html="<p>Neu</p>", updated=T1))
    update = vocab.update(URIS, "stadt", edited, T1)
    assert update["object"]["updated"] == "2025-03-01T13:30:00Z"
    assert update["id"] != vocab.update(URIS, "stadt", edited, T0)["id"]  # one id per edit

    delete = vocab.delete(URIS, "stadt", "1001")
    assert delete["object"] == {"id": note["id"], "type": "Tombstone", "formerType": "Note"}


def test_accept_embeds_the_follow_with_its_id():
    follow = {"id": "https://mastodon.example/f/1", "type": "Follow", "actor": "https://mastodon.example/users/alice",
              "object": URIS.actor("stadt")}
    parsed = parse_activity(follow)
    assert isinstance(parsed, FollowIn)
    accept = vocab.accept_follow(URIS, "stadt", parsed.embedded())
    assert accept["type"] == "Accept" and accept["actor"] == URIS.actor("stadt")
    assert accept["object"] == follow
    assert accept["id"] == vocab.accept_follow(URIS, "stadt", follow)["id"]


def test_quote_acceptance_points_at_a_dereferenceable_authorization():
    request = {"id": "https://m.example/q/1", "type": "QuoteRequest", "actor": "https://m.example/u/a",
               "object": URIS.note("stadt", "1"), "instrument": "https://m.example/u/a/s/2"}
    accept = vocab.accept_quote(URIS, "stadt", request, "auth1")
    authorization = vocab.quote_authorization(URIS, "stadt", "auth1", request["instrument"], request["object"])
    assert accept["result"] == authorization["id"]
    assert authorization["interactionTarget"] == URIS.note("stadt", "1")
    assert vocab.reject_quote(URIS, "stadt", request)["type"] == "Reject"


def test_collections():
    outbox = vocab.ordered_collection(URIS.outbox("stadt"), 42, first=URIS.outbox_page("stadt"),
                                      last=URIS.outbox_page("stadt", min_id="0"))
    assert outbox["totalItems"] == 42 and outbox["first"].endswith("?page=true")
    page = vocab.ordered_collection_page(URIS.outbox_page("stadt"), URIS.outbox("stadt"), [{"@context": "x", "id": "a"}],
                                         next_page=URIS.outbox_page("stadt", max_id="20"))
    assert page["type"] == "OrderedCollectionPage" and page["orderedItems"] == [{"id": "a"}]
    followers = vocab.ordered_collection(URIS.followers("stadt"), 7)
    assert "orderedItems" not in followers and "first" not in followers


def test_hashtag_slugs_are_folded():
    assert hashtag_slug("#Straßenfest") == "straenfest"
    assert hashtag_slug("Übergabe") == "ubergabe"


def test_webfinger_hostmeta_nodeinfo():
    jrd = webfinger(URIS, "stadt")
    assert jrd["subject"] == "acct:stadt@city.example"
    assert {"rel": "self", "type": "application/activity+json", "href": URIS.actor("stadt")} in jrd["links"]
    assert any(link["rel"] == "http://webfinger.net/rel/profile-page" for link in jrd["links"])
    xrd = ElementTree.fromstring(host_meta(URIS))
    link = xrd.find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert link.get("template") == "https://city.example/.well-known/webfinger?resource={uri}"
    assert nodeinfo_discovery(URIS)["links"][0]["href"] == "https://city.example/nodeinfo/2.1"
    info = nodeinfo("0.1.0", Usage(3, 3, 3, 120))
    assert info["software"]["name"] == "stadtbote" and info["protocols"] == ["activitypub"]
    assert info["openRegistrations"] is False and info["usage"]["users"]["activeHalfyear"] == 3


@pytest.mark.parametrize("resource, expected", [
    ("acct:stadt@city.example", ResourceName("stadt")),
    ("acct:Stadt@CITY.example", ResourceName("Stadt")),
    ("stadt@city.example", ResourceName("stadt")),
    ("@stadt@city.example", ResourceName("stadt")),
    ("https://city.example/users/stadt", ResourceName("stadt")),
    ("https://city.example/@stadt", ResourceName("stadt")),
    ("acct:stadt@other.example", ResourceReason.OTHER_HOST),
    ("https://other.example/users/stadt", ResourceReason.OTHER_HOST),
    ("https://city.example/users/stadt/outbox", ResourceReason.UNKNOWN_FORM),
    ("acct:stadt", ResourceReason.MALFORMED),
    ("acct:<script>@city.example", ResourceReason.MALFORMED),
    ("", ResourceReason.MISSING),
    (None, ResourceReason.MISSING),
])
def test_parse_resource(resource, expected):
    result = parse_resource(resource, URIS)
    if isinstance(expected, ResourceName):
        assert result == expected
    else:
        assert isinstance(result, ResourceRejected) and result.reason is expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parse_resource_never_raises(text):
    assert isinstance(parse_resource(text, URIS), (ResourceName, ResourceRejected))


@pytest.mark.parametrize("dirty, clean", [
    ('<p>Hi <script>alert(1)</script><b onclick="x">there</b></p>', "<p>Hi <b>there</b></p>"),
    ('<a href="javascript:alert(1)">x</a>', '<a rel="nofollow noopener noreferrer" target="_blank">x</a>'),
    ('<a href="https://e.example/" rel="me">x</a>',
     '<a href="https://e.example/" rel="nofollow noopener noreferrer" target="_blank">x</a>'),
    ('<span class="h-card evil invisible">x</span>', '<span class="h-card invisible">x</span>'),
    ('<img src="x" onerror="y"><iframe src="https://e.example"></iframe>ok', "ok"),
    ("<h2>Titel</h2>", "<p><strong>Titel</strong></p>"),
    ("<blockquote><pre><code>a &lt; b</code></pre></blockquote>", "<blockquote><pre><code>a &lt; b</code></pre></blockquote>"),
    ('<a href="ftp://x.example/">x</a>', '<a rel="nofollow noopener noreferrer" target="_blank">x</a>'),
])
def test_sanitize_keeps_mastodons_subset(dirty, clean):
    assert sanitize_html(dirty) == clean


def test_html_to_text():
    assert html_to_text("<p>JA, gerne&amp;gern</p><p>zweite<br>Zeile</p><script>x()</script>") == \
        "JA, gerne&gern\n\nzweite\nZeile"
    assert html_to_text(None) == ""


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_sanitize_never_leaves_script_or_event_handlers(text):
    cleaned = sanitize_html(text + "<script>x</script><a href='javascript:x' onclick='y'>z</a>")
    assert "<script" not in cleaned and "onclick" not in cleaned and "javascript:" not in cleaned
    html_to_text(text)
