"""The privacy verbs of `stadtbote`: audit pubkey|export|verify|checkpoint, subject export|erase|object,
retention run, register. Each handler returns an exit code or raises `CommandError` (one line, exit 1).

`audit verify` works offline: it needs the export file and the pinned public key, not the config or
the database (what it checks is `consent.verifier`, which needs only the standard library and
`cryptography`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from bridge.cli.errors import CommandError
from bridge.config.model import Config
from bridge.store.db import create_engine, create_sessionmaker, utcnow
from bridge.web.i18n import Catalogues, set_language
from bridge.privacy.rights import erase_person, export_person, object_person, run_retention, signer_for, vault_for
from bridge.privacy.register import build_register
from bridge.web.render import create_templates
from consent.audit import Action, Event, record
from consent.auditexport import export_chunks
from consent.auditsigning import write_checkpoint
from consent.checkpoint import KeyFormatError, VerifierKey, load_public_key_pem, parse_vkey
from consent.register import markdown
from consent.verifier import verify_export

CLI_ACTOR = ("admin", "cli")  # whoever runs the command has shell access to the installation


@contextlib.asynccontextmanager
async def _sessions(config: Config):
    engine = create_engine(config.database.url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


def _write(text: str, out: str | None) -> None:
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--out {out}: {exc.strerror or 'cannot write'}") from None
    else:
        sys.stdout.write(text)


async def audit_pubkey(args: argparse.Namespace, config: Config) -> int:
    sys.stdout.write(signer_for(config).public_pem())
    return 0


async def audit_checkpoint(args: argparse.Namespace, config: Config) -> int:
    async with _sessions(config) as sessions, sessions.begin() as session:
        checkpoint = await write_checkpoint(session, signer_for(config))
    sys.stdout.write(checkpoint.note)
    return 0


async def audit_export(args: argparse.Namespace, config: Config) -> int:
    signer = signer_for(config)
    async with _sessions(config) as sessions:
        async with sessions.begin() as session:
            await record(session, Event(Action.AUDIT_EXPORTED, *CLI_ACTOR, details={"since": args.since}))
        async with sessions.begin() as session:
            await write_checkpoint(session, signer)  # every exported entry is vouched for, this one too
        try:
            with open(args.out, "w", encoding="utf-8") as fh:
                async with sessions() as session:
                    async for chunk in export_chunks(session, signer.origin, args.since):
                        fh.write(chunk)
        except OSError as exc:
            raise CommandError(f"--out {args.out}: {exc.strerror or 'cannot write'}") from None
    print(f"Wrote {args.out}")
    return 0


def _pinned_key(argument: str, origin: str) -> VerifierKey:
    path = Path(argument)
    text = path.read_text(encoding="utf-8") if path.is_file() else argument
    try:
        if text.lstrip().startswith("-----BEGIN"):
            return VerifierKey(origin, load_public_key_pem(text.encode()))
        return parse_vkey(text)
    except KeyFormatError as exc:
        raise CommandError(f"--key: {exc}") from None


async def audit_verify(args: argparse.Namespace, config: Config | None) -> int:
    try:
        export = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{args.file}: cannot read the export ({exc.__class__.__name__})") from None
    origin = args.origin or (export.get("origin") if isinstance(export, dict) else None) or "unknown"
    report = verify_export(export, _pinned_key(args.key, origin), args.origin)
    base = export.get("base") if isinstance(export, dict) and isinstance(export.get("base"), dict) else {}
    end = report.entries + (base.get("size") if isinstance(base.get("size"), int) else 0)
    if report.ok and report.verified_size < end:
        # An export always ends with a checkpoint over all of it: a tail without one was appended to the
        # file, or its checkpoint was removed.
        print(f"failed: entry {report.verified_size}: unsigned: entries {report.verified_size}..{end - 1} "
              "are not covered by any signed checkpoint")
        return 1
    if report.ok:
        print(f"ok: {report.entries} entries, {report.checkpoints_verified} checkpoints")
        return 0
    problem = report.first_problem
    where = f"entry {problem.seq}" if problem.seq is not None else f"checkpoint {problem.checkpoint}"
    print(f"failed: {where}: {problem.kind}: {problem.description} "
          f"({len(report.problems)} problem(s) in all)")
    return 1


async def subject_export(args: argparse.Namespace, config: Config) -> int:
    async with _sessions(config) as sessions, sessions.begin() as session:
        result = await export_person(session, vault_for(config), config, args.identifier, CLI_ACTOR)
    if not result.ok:
        raise CommandError(result.reason.description)
    _write(json.dumps(result.document, ensure_ascii=False, indent=2) + "\n", args.out)
    return 0


async def subject_erase(args: argparse.Namespace, config: Config) -> int:
    async with _sessions(config) as sessions:
        result = await erase_person(sessions, vault_for(config), signer_for(config), args.identifier, CLI_ACTOR)
    if not result.ok:
        raise CommandError(result.reason.description)
    print(f"Erased; proof of the erasure entry {result.document['index']}:", file=sys.stderr)
    _write(json.dumps(result.document, ensure_ascii=False, indent=2) + "\n", args.out)
    return 0


async def subject_object(args: argparse.Namespace, config: Config) -> int:
    async with _sessions(config) as sessions, sessions.begin() as session:
        try:
            result = await object_person(session, vault_for(config), args.identifier, CLI_ACTOR)
        except ValueError as exc:
            raise CommandError(f"{args.identifier!r}: {exc}") from None
    print(f"Objection recorded for {result.document['pseudonym']} ({result.document['objected_at']}); "
          "nothing new of this person will be stored")
    return 0


async def retention_run(args: argparse.Namespace, config: Config) -> int:
    async with _sessions(config) as sessions, sessions.begin() as session:
        counts = await run_retention(session, vault_for(config), config, CLI_ACTOR)
    for name, count in counts.items():
        print(f"{name}\t{count}")
    return 0


async def register(args: argparse.Namespace, config: Config) -> int:
    data = build_register(config, utcnow())
    if args.format == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    elif args.format == "markdown":
        text = markdown(data)
    else:
        set_language(config.instance.language)
        template = create_templates(Catalogues()).get_template("dpo_register_doc.html")
        text = template.render(register=data, lang=config.instance.language, instance=config.instance)
    sys.stdout.write(text)
    return 0

