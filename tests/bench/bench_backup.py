"""Backup and restore times for a bigger instance: `stadtbote backup` and `stadtbote restore` as an operator
runs them (own processes), on an installation seeded with --posts posts and --images image files.

    .venv/bin/python tests/bench/bench_backup.py [--posts 10000] [--images 1000] [--image-kb 250]
                                                 [--db URL --target-db URL]

Without --db both databases are SQLite files in a temporary folder; with PostgreSQL give two empty
databases (`createdb stadtbote_bench_a; createdb stadtbote_bench_b`). Image files hold random bytes of
--image-kb each (neither backup nor restore decodes or compresses them, so only their size matters);
every image has its media row and belongs to a post.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bridge.cli.bootstrap import bootstrap  # noqa: E402
from bridge.config.load import load_config  # noqa: E402
from bridge.runtime.media_storage import media_key, media_storage  # noqa: E402
from bridge.store.db import create_engine, create_sessionmaker, utcnow  # noqa: E402
from bridge.store.models import Actor, Media, Post, PostState, new_id  # noqa: E402
from sqlalchemy import select  # noqa: E402

TEXT = ("Die Stadtbibliothek hat ab Montag neue Öffnungszeiten: montags bis freitags von 9 bis 19 Uhr, "
        "samstags von 10 bis 14 Uhr. Mehr unter https://www.musterstadt.example/bibliothek #Lesen #Stadt ")


def write_config(folder: Path, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(f'[instance]\nbase_url = "https://stadt.example"\nname = "Stadt"\ndata_dir = "data"\n\n'
                    f'[database]\nurl = "{url}"\n\n[[actors]]\nname = "stadt"\n', encoding="utf-8")
    return path


async def seed(config_path: Path, posts: int, images: int, image_kb: int) -> None:
    config = load_config(config_path)
    engine = create_engine(config.database.url)
    sessions = create_sessionmaker(engine)
    await bootstrap(engine, sessions, config)
    async with sessions.begin() as session:
        actor_id = await session.scalar(select(Actor.id).where(Actor.name == "stadt"))
    per_post = max(1, posts // max(1, images)) if images else 0
    for offset in range(0, posts, 1000):
        async with sessions.begin() as session:
            for n in range(offset, min(posts, offset + 1000)):
                post = Post(id=new_id(), actor_id=actor_id, state=PostState.PUBLISHED, text=f"{n}: {TEXT}",
                            language="de", mirrors=[], published_at=utcnow())
                session.add(post)
                if per_post and n % per_post == 0 and n // per_post < images:
                    session.add(_image(config, actor_id, post.id, image_kb))
    await engine.dispose()


def _image(config, actor_id: int, post_id: int, image_kb: int) -> Media:
    media_id = new_id()
    filename = f"{media_id:x}.jpg"
    path = media_storage(config).local_path(media_key(filename))  # a local data_dir: written directly
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(image_kb * 1024))
    return Media(id=media_id, actor_id=actor_id, post_id=post_id, filename=filename, mime_type="image/jpeg",
                 width=1600, height=1200, size=image_kb * 1024, alt="Ein Bild")


def stadtbote(*argv: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bridge", *argv], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"stadtbote {argv[0]} failed: {done.stderr.strip()}")
    print(f"  {done.stdout.strip().splitlines()[-1]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=1_000)
    parser.add_argument("--image-kb", type=int, default=250)
    parser.add_argument("--db", help="source database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--target-db", help="empty target database URL (with --db)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stadtbote-bench-") as tmp:
        tmp = Path(tmp)
        source = write_config(tmp / "source", args.db or f"sqlite+aiosqlite:///{tmp / 'source.sqlite3'}")
        target = write_config(tmp / "target", args.target_db or f"sqlite+aiosqlite:///{tmp / 'target.sqlite3'}")
        started = time.perf_counter()
        asyncio.run(seed(source, args.posts, args.images, args.image_kb))
        print(f"seeded {args.posts} posts and {args.images} images of {args.image_kb} kB "
              f"in {time.perf_counter() - started:.1f} s")
        archive = tmp / "backup.tar"
        backup = stadtbote("backup", "--out", str(archive), "--config", str(source))
        print(f"backup:  {backup:6.1f} s wall (process start included), {archive.stat().st_size / 1e6:.0f} MB")
        restore = stadtbote("restore", str(archive), "--config", str(target))
        print(f"restore: {restore:6.1f} s wall (process start, checksum pass and migrations check included)")


if __name__ == "__main__":
    main()
