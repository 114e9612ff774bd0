"""Our posts and accounts as ActivityPub documents (part of the one conversion layer, beside
`bridge.convert` for the Mastodon API). Everything ActivityPub-shaped is built by `activitypub/`;
this module only maps our rows onto its inputs."""

from __future__ import annotations

from html import escape

from activitypub.actors import ActorInput, ImageRef, ProfileField, actor_document, link_field
from activitypub.notes import Attachment, Captions, Mention, NoteInput, QuotePolicy, note_document
from activitypub.uris import Uris
from bridge.config.model import ActorConfig, Config
from bridge.convert.mastodon import avatar_url, content_html, header_url, mention_url
from bridge.convert.events import event_fields
from bridge.convert.polls import question_fields
from bridge.store.db import utcnow
from bridge.store.events import loaded_event
from bridge.store.polls import loaded_poll
from bridge.store.models import Actor, Media, Post
from bridge.convert.text import parse_text


def post_to_note_input(post: Post, config: Config, uris: Uris) -> NoteInput:
    parsed = parse_text(post.text, uris.host)
    actor_config = config.actor(post.actor.name)
    return NoteInput(
        actor_name=post.actor.name,
        post_id=str(post.id),
        content_html=content_html(post.text, uris),
        published=post.published_at or post.created_at,
        language=post.language,
        summary=post.spoiler_text or None,
        sensitive=bool(post.spoiler_text),
        hashtags=tuple(parsed.hashtags),
        mentions=_mentions(post, uris, parsed.mentions),
        in_reply_to=post.in_reply_to,
        attachments=tuple(_attachment(m, post.language, uris) for m in post.media),
        updated=post.edited_at,
        quote_policy=QuotePolicy(getattr(actor_config, "quote_policy", "public")) if actor_config
        else QuotePolicy.NOBODY,
        translations=tuple((language, content_html(text, uris))
                           for language, text in (post.translations or {}).items() if language != post.language),
    )


# The captions' language is the post's; its name as PeerTube gives it.
LANGUAGE_NAMES = {"de": "German", "en": "English"}


def _attachment(media: Media, language: str | None, uris: Uris) -> Attachment:
    if not media.is_video:
        return Attachment(url=uris.media(media.filename), media_type=media.mime_type, alt_text=media.alt,
                          width=media.width, height=media.height, kind="Image")
    language = language or "de"
    captions = (Captions(language, LANGUAGE_NAMES.get(language, language), uris.media(media.captions_filename)),) \
        if media.captions_filename else ()
    return Attachment(url=uris.media(media.filename), media_type=media.mime_type, alt_text=media.alt,
                      width=media.width, height=media.height, kind="Video",
                      duration_seconds=(media.duration_ms or 0) / 1000 or None,
                      poster_url=uris.media(media.poster_filename) if media.poster_filename else None,
                      captions=captions)


def _mentions(post: Post, uris: Uris, accts: list[str]) -> tuple[Mention, ...]:
    """The text's mentions; an answer also mentions the person answered by their actor id (which puts
    them in `cc`), whether or not the text names them."""
    resolved = post.mention_actors or {}
    mentions = [_mention(uris, acct, resolved.get(acct.lower())) for acct in accts]
    if post.in_reply_to_actor:
        handle = post.in_reply_to_handle or post.in_reply_to_actor
        mentions = [m for m in mentions if m.name.lower() != handle.lower()]
        mentions.append(Mention(href=post.in_reply_to_actor, name=handle))
    return tuple(mentions)


def _mention(uris: Uris, acct: str, actor_id: str | None) -> Mention:
    # A remote actor id is known once WebFinger answered (`bridge.mentions`); until then, the profile URL.
    user, _, host = acct.partition("@")
    href = uris.actor(user) if host == uris.host else actor_id or mention_url(uris, acct)
    return Mention(href=href, name=f"@{acct}")


def post_to_note(post: Post, config: Config, uris: Uris) -> dict:
    note = note_document(uris, post_to_note_input(post, config, uris))
    poll, event = loaded_poll(post), loaded_event(post)
    if event is not None:
        return note | event_fields(event, note)
    return note | question_fields(poll, utcnow()) if poll is not None else note


def _profile_fields(actor: ActorConfig, config: Config) -> tuple[ProfileField, ...]:
    if actor.fields:  # chosen in the browser: links where the content is an address, text otherwise
        return tuple(link_field(label, value) if value.startswith(("https://", "http://"))
                     else ProfileField(label, escape(value)) for label, value in actor.fields)
    fields = []
    if actor.website:
        fields.append(link_field("Website", actor.website))
    if config.privacy.imprint_url:
        fields.append(link_field("Impressum", config.privacy.imprint_url))
    if config.privacy.privacy_url:
        fields.append(link_field("Datenschutz", config.privacy.privacy_url))
    return tuple(fields)


def actor_to_document(actor: Actor, actor_config: ActorConfig, config: Config, uris: Uris) -> dict:
    summary = "".join(f"<p>{escape(p)}</p>" for p in actor_config.summary.split("\n\n") if p.strip())
    document = actor_document(uris, ActorInput(
        name=actor.name,
        display_name=actor_config.display_name,
        summary_html=summary,
        public_key_pem=actor.public_key_pem,
        published=actor.created_at,
        fields=_profile_fields(actor_config, config),
        kind=actor_config.type,
        icon=ImageRef(avatar_url(uris, actor_config), "image/png") if actor_config.has_avatar else None,
        image=ImageRef(header_url(uris, actor_config), "image/png") if actor_config.header_file else None,
        # the retired accounts that moved here: receivers of their Move check this
        also_known_as=tuple(uris.actor(a.name) for a in config.actors if a.moved_to == actor.name),
    ))
    if actor_config.moved_to:
        document["movedTo"] = uris.actor(actor_config.moved_to)
    return document

