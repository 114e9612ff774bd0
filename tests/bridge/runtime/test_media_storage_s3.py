"""The media storage on a real S3-compatible server (moto's standalone server, checking credentials):
uploads, the public media handler, avatars, retention purges, platform copies and the start-up check."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bridge.app import create_app
from bridge.appkeys import SESSIONS
from bridge.cli.main import main
from bridge.config.load import parse_config
from bridge.config.model import ConfigError
from bridge.privacy.media_purge import purge_media
from bridge.privacy.register import build_register
from bridge.store.db import utcnow
from bridge.runtime.media_storage import MEDIA, StorageReason, avatar_key, media_key, media_storage
from bridge.publishing.uploads import upload_image
from bridge.store.models import Media, User
from support.public import delete, editor, png, publish
from support.web import Visitor, signed_in
from testkit import config_dict, write_config


@pytest.fixture
def config(make_config, s3_service, s3_bucket, tmp_path):
    avatar = tmp_path / "wappen.png"
    avatar.write_bytes(png((800, 600), "blue"))
    return make_config(media=s3_service.media_section(s3_bucket),
                       actors=[{"name": "stadt", "display_name": "Stadt", "avatar": str(avatar)},
                               {"name": "feuerwehr", "display_name": "Feuerwehr"}])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def published_image(sessions, config, password_hash: str) -> str:
    """The file name of the image of a newly published post."""
    user_id = await editor(sessions, password_hash)
    post_id = await publish(sessions, config, user_id, "Mit Bild", images=(("Ein rotes Bild", False),))
    async with sessions() as s:
        return await s.scalar(select(Media.filename).where(Media.post_id == post_id))


async def test_an_image_posted_is_in_the_bucket_not_on_disk_and_served_from_it(
        client, sessions, config, s3_service, s3_bucket, test_password_hash):
    filename = await published_image(sessions, config, test_password_hash)
    assert s3_service.objects(s3_bucket) == [media_key(filename)]
    assert not (config.instance.data_dir / MEDIA).exists()
    stored = s3_service.client().get_object(Bucket=s3_bucket, Key=media_key(filename))
    assert stored["ContentType"] == "image/png"

    response = await client.get(f"/media/{filename}")
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/png"
    assert "immutable" in response.headers["Cache-Control"]
    assert await response.read() == stored["Body"].read()
    assert (await client.get("/media/0.png")).status == 404


async def test_a_drafts_image_streams_only_to_its_editors_and_a_lost_object_is_404(
        client, sessions, config, s3_service, s3_bucket, test_password_hash):
    user_id = await editor(sessions, test_password_hash)
    async with sessions.begin() as s:
        uploaded = await upload_image(s, config, await s.get(User, user_id), "stadt", png(), alt="Entwurf")
    filename = uploaded.media.filename
    assert (await client.get(f"/media/{filename}")).status == 404  # not published: nobody else sees it
    visitor = await signed_in(Visitor(client), sessions, user_id)
    try:
        async with visitor.session.get(visitor.url(f"/media/{filename}")) as response:
            assert response.status == 200 and response.headers["Cache-Control"] == "private, no-store"
            assert await response.read() == s3_service.client().get_object(
                Bucket=s3_bucket, Key=media_key(filename))["Body"].read()
        s3_service.client().delete_object(Bucket=s3_bucket, Key=media_key(filename))
        async with visitor.session.get(visitor.url(f"/media/{filename}")) as response:
            assert response.status == 404  # row there, object gone: no 500
    finally:
        await visitor.close()


async def test_with_public_url_published_images_redirect_there(
        aiohttp_client, make_config, s3_service, s3_bucket, booted, test_password_hash):
    config = make_config(media=s3_service.media_section(s3_bucket, public_url="https://bilder.stadt.test/"))
    client = await aiohttp_client(create_app(config, run_worker=False))
    filename = await published_image(client.app[SESSIONS], config, test_password_hash)
    response = await client.get(f"/media/{filename}", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == f"https://bilder.stadt.test/media/{filename}"


async def test_the_avatar_is_reencoded_into_the_bucket_once(client, config, s3_service, s3_bucket):
    first = await client.get("/avatars/stadt.png")
    assert first.status == 200 and first.headers["Content-Type"] == "image/png"
    body = await first.read()
    assert s3_service.objects(s3_bucket) == [avatar_key("stadt")]
    modified = s3_service.client().head_object(Bucket=s3_bucket, Key=avatar_key("stadt"))["LastModified"]
    again = await client.get("/avatars/stadt.png")
    assert await again.read() == body
    assert s3_service.client().head_object(Bucket=s3_bucket, Key=avatar_key("stadt"))["LastModified"] == modified
    assert (await client.get("/avatars/feuerwehr.png")).status == 404


async def test_retention_removes_the_objects_of_deleted_posts(
        sessions, config, s3_service, s3_bucket, test_password_hash, client):
    user_id = await editor(sessions, test_password_hash)
    kept = await publish(sessions, config, user_id, "Bleibt", images=(("A", False),))
    gone = await publish(sessions, config, user_id, "Geht", images=(("B", False),))
    await delete(sessions, user_id, gone)
    async with sessions() as s:
        names = dict((await s.execute(select(Media.post_id, Media.filename))).all())
    storage = media_storage(config)
    await storage.ensure_local([media_key(names[gone])])  # a platform job's local copy goes too
    assert storage.local_path(media_key(names[gone])).is_file()
    async with sessions.begin() as s:
        counts = await purge_media(s, storage, utcnow() + timedelta(days=2))
    assert counts["deleted_posts_media"] == 1
    assert s3_service.objects(s3_bucket) == [media_key(names[kept])]
    assert not storage.local_path(media_key(names[gone])).exists()


async def test_the_start_up_check_names_each_problem(make_config, s3_service, s3_bucket):
    def storage(**overrides):
        return media_storage(make_config(media={**s3_service.media_section(s3_bucket), **overrides}))

    assert (await storage().check()).ok
    assert s3_service.objects(s3_bucket) == []  # the probe object is gone again
    wrong_secret = await storage(secret_key="falsch").check()
    assert wrong_secret.reason is StorageReason.DENIED
    assert "falsch" not in wrong_secret.description
    assert (await storage(access_key="AKIAUNKNOWN0000000").check()).reason is StorageReason.DENIED
    assert (await storage(bucket="gibt-es-nicht").check()).reason is StorageReason.NO_BUCKET
    closed = f"http://127.0.0.1:{_free_port()}"
    assert (await storage(endpoint=closed).check()).reason is StorageReason.UNREACHABLE


@pytest.mark.parametrize("verb", ["serve", "worker"])
def test_serve_and_worker_refuse_to_start_on_a_wrong_credential_with_one_line(
        verb, tmp_path, db_url, s3_service, s3_bucket, capsys, monkeypatch):
    monkeypatch.setenv("STADTBOTE_S3_SECRET", "falsch")
    extra = (f'\n[media]\nbackend = "s3"\nendpoint = "{s3_service.endpoint}"\nbucket = "{s3_bucket}"\n'
             f'access_key = "{s3_service.access_key}"\nsecret_key = "env:STADTBOTE_S3_SECRET"\n')
    path = write_config(tmp_path, db_url, _free_port(), extra)
    assert main([verb, "--config", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [f"stadtbote: [media]: {StorageReason.DENIED.description} (403)"], err
    assert "falsch" not in err


def test_the_media_section_is_checked(tmp_path, db_url):
    def parse(media):
        return parse_config(config_dict(tmp_path, db_url, media=media), tmp_path, None, {"KEY": "geheim"})

    assert parse({"backend": "s3", "bucket": "bilder", "access_key": "a", "secret_key": "env:KEY"}
                 ).media.secret_key.value == "geheim"
    for media, path in (({"backend": "ftp"}, "media.backend"),
                        ({"backend": "local", "bucket": "bilder"}, "media.bucket"),
                        ({"backend": "s3", "bucket": "Bilder!", "access_key": "a", "secret_key": "b"}, "media.bucket"),
                        ({"backend": "s3", "bucket": "bilder", "access_key": "a"}, "media.secret_key"),
                        ({"backend": "s3", "bucket": "bilder", "access_key": "a", "secret_key": "env:NOPE"},
                         "media.secret_key"),
                        ({"backend": "s3", "bucket": "bilder", "access_key": "a", "secret_key": "b",
                          "endpoint": "ftp://x"}, "media.endpoint")):
        with pytest.raises(ConfigError) as raised:
            parse(media)
        assert raised.value.path == path, media
    assert "geheim" not in repr(parse({"backend": "s3", "bucket": "bilder", "access_key": "a",
                                       "secret_key": "env:KEY"}))


def test_the_bucket_is_a_processor_in_the_art_30_register(config, s3_service, s3_bucket):
    recipients = build_register(config, utcnow())["recipients"]
    storage = [r for r in recipients if r["role"] == "processor"]
    assert len(storage) == 1 and s3_bucket in storage[0]["name"] and "127.0.0.1" in storage[0]["name"]


async def test_a_replaced_profile_picture_is_deleted_from_the_bucket(client, config, s3_service, s3_bucket):
    async with client.app[SESSIONS].begin() as session:
        admin = await session.scalar(select(User).where(User.name == "admin"))
        admin.must_change_password = False
        admin_id = admin.id
    boss = await signed_in(Visitor(client), client.app[SESSIONS], admin_id)
    try:
        for colour in ("green", "white"):
            await boss.get("/admin/accounts/feuerwehr")
            data = aiohttp.FormData([("display_name", "Feuerwehr"), ("quote_policy", "public"), ("language", "de")])
            data.add_field("avatar", png((80, 80), colour), filename="a.png", content_type="image/png")
            assert (await boss.post("/admin/accounts/feuerwehr", data)).status == 303
            pictures = [k for k in s3_service.objects(s3_bucket) if k.startswith(f"{MEDIA}/avatar-feuerwehr-")]
            assert len(pictures) == 1  # the second round: the first picture is gone from the bucket
    finally:
        await boss.close()
    assert not (config.instance.data_dir / "media").exists() or \
        not list((config.instance.data_dir / "media").glob("avatar-feuerwehr-*"))


async def test_a_large_file_goes_up_in_parts_and_comes_back_whole_to_the_local_copy(config, s3_service, s3_bucket,
                                                                                  tmp_path):
    """A video beyond one part (8 MB) goes through S3's multipart upload; the bucket holds the exact bytes, and
    the local copy a platform job reads is written chunk by chunk."""
    import hashlib
    import os

    from bridge.runtime.media_storage import PART

    source = tmp_path / "clip.mp4"
    data = os.urandom(PART + 1_500_000)
    source.write_bytes(data)
    storage = media_storage(config)
    await storage.put_file(media_key("clip.mp4"), source, "video/mp4")
    stored = s3_service.client().get_object(Bucket=s3_bucket, Key=media_key("clip.mp4"))
    assert stored["ContentType"] == "video/mp4"
    assert "-2" in stored["ETag"]  # the ETag of a multipart object names its parts: two of them
    assert hashlib.sha256(stored["Body"].read()).digest() == hashlib.sha256(data).digest()
    await storage.ensure_local([media_key("clip.mp4"), media_key("missing.mp4")])
    assert storage.local_path(media_key("clip.mp4")).read_bytes() == data
    assert not storage.local_path(media_key("missing.mp4")).exists()
    assert list(storage.local_path(media_key("clip.mp4")).parent.glob("*.tmp")) == []
