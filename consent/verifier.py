"""Offline verification of an audit export, and inclusion-proof documents for single entries.

Needs only the standard library and `cryptography`. Export format (JSON):

    {"origin": "<log origin>",
     "entries": [{"seq": 0, "leaf": {...entry object...}, "leaf_hash": "<base64, optional>"}, ...],
     "checkpoints": ["<signed checkpoint note>", ...],
     "base": {"size": N, "nodes": ["<base64>", ...]}}          (optional, for partial exports)

Sequence numbers start at 0 and equal the Merkle leaf index, so entry `seq` is leaf `seq` of every
checkpoint with a larger size. A leaf hash is SHA-256(0x00 || canonical_bytes(leaf)). A partial export
starts at `base.size` and carries the compact-tree nodes of the first `base.size` leaves; a checkpoint
of exactly that size must vouch for them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from consent.canonical import CanonicalError, b64, canonical_bytes, unb64
from consent.checkpoint import Checkpoint, VerifierKey, parse_and_verify, read_unverified
from consent.merkle import (
    CompactTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

PROOF_FORMAT = "stadtbote-inclusion-proof/1"
_PLACEHOLDER = bytes(32)  # stands in for an unreadable entry so later positions stay aligned


class ProblemKind(enum.StrEnum):
    MALFORMED_EXPORT = "malformed_export"
    MALFORMED_ENTRY = "malformed_entry"
    SEQUENCE_GAP = "sequence_gap"
    SEQUENCE_OUT_OF_ORDER = "sequence_out_of_order"
    SEQUENCE_MISMATCH = "sequence_mismatch"
    LEAF_HASH_MISMATCH = "leaf_hash_mismatch"
    CHECKPOINT_INVALID = "checkpoint_invalid"
    CHECKPOINT_WRONG_ORIGIN = "checkpoint_wrong_origin"
    CHECKPOINT_BEYOND_LOG = "checkpoint_beyond_log"
    CHECKPOINT_ROOT_MISMATCH = "checkpoint_root_mismatch"
    CHECKPOINTS_INCONSISTENT = "checkpoints_inconsistent"
    BASE_UNANCHORED = "base_unanchored"
    NO_CHECKPOINT = "no_checkpoint"


# Kinds whose `seq` only starts the range in which the change must lie.
_RANGE_KINDS = frozenset({"checkpoint_root_mismatch", "checkpoint_beyond_log"})


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    description: str
    seq: int | None = None  # the first entry concerned, where one can be named
    checkpoint: int | None = None  # position in export["checkpoints"]


@dataclass(frozen=True, slots=True)
class VerificationReport:
    entries: int
    verified_size: int  # largest tree size whose signed root matches the entries
    checkpoints_verified: int
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        """The earliest located problem, preferring exact findings over "somewhere in this range"."""
        located = [p for p in self.problems if p.seq is not None]
        if not located:
            return self.problems[0] if self.problems else None
        return min(located, key=lambda p: (p.kind in _RANGE_KINDS, p.seq))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "verified_size": self.verified_size,
            "checkpoints_verified": self.checkpoints_verified,
            "problems": [
                {"kind": str(p.kind), "description": p.description, "seq": p.seq, "checkpoint": p.checkpoint}
                for p in self.problems
            ],
        }


def entry_leaf_hash(entry: Mapping[str, Any]) -> bytes:
    """The Merkle leaf hash of one audit entry object."""
    return leaf_hash(canonical_bytes(entry))


def verify_export(export: Any, key: VerifierKey, origin: str | None = None) -> VerificationReport:
    """Check an export against the pinned key (and origin, if given); never raises on bad input."""
    shape = _check_shape(export, origin)
    if shape is not None:
        return VerificationReport(0, 0, 0, (shape,))
    problems: list[Problem] = []
    tree, base_problem = _base_tree(export.get("base"))
    if base_problem:
        return VerificationReport(0, 0, 0, (base_problem,))
    entries = export["entries"]
    hashes = _hash_entries(entries, tree.size, problems)
    signed = _verified_checkpoints(export["checkpoints"], key, export["origin"], problems)
    base = tree.size
    verified, matched = _check_roots(tree, hashes, signed, problems)
    if base == 0:
        _check_consistency(hashes, signed, matched, problems)
    if not signed and (entries or tree.size):
        problems.append(Problem(ProblemKind.NO_CHECKPOINT, "no valid signed checkpoint vouches for the entries"))
    return VerificationReport(len(entries), verified, len(signed), tuple(problems))


def _check_shape(export: Any, origin: str | None) -> Problem | None:
    def bad(why: str) -> Problem:
        return Problem(ProblemKind.MALFORMED_EXPORT, why)

    if not isinstance(export, Mapping):
        return bad("export must be a JSON object")
    if not isinstance(export.get("origin"), str) or not export["origin"]:
        return bad("export needs a non-empty 'origin'")
    if origin is not None and export["origin"] != origin:
        return bad(f"export origin {export['origin']!r} is not the pinned origin {origin!r}")
    if not isinstance(export.get("entries"), list):
        return bad("export needs an 'entries' list")
    checkpoints = export.get("checkpoints")
    if not isinstance(checkpoints, list) or not all(isinstance(c, str) for c in checkpoints):
        return bad("export needs a 'checkpoints' list of signed notes")
    return None


def _base_tree(base: Any) -> tuple[CompactTree, Problem | None]:
    if base is None:
        return CompactTree(), None
    nodes = [unb64(n) for n in base.get("nodes", [])] if isinstance(base, Mapping) else [None]
    size = base.get("size") if isinstance(base, Mapping) else None
    try:
        if not isinstance(size, int) or isinstance(size, bool) or None in nodes:
            raise ValueError("base needs an integer 'size' and base64 'nodes'")
        return CompactTree.from_state(size, nodes), None  # type: ignore[arg-type]
    except ValueError as exc:
        return CompactTree(), Problem(ProblemKind.MALFORMED_EXPORT, f"bad 'base': {exc}")


def _hash_entries(entries: list[Any], first_seq: int, problems: list[Problem]) -> list[bytes]:
    _check_sequence(entries, first_seq, problems)
    hashes: list[bytes] = []
    for position, item in enumerate(entries):
        seq = first_seq + position
        if not isinstance(item, Mapping) or not isinstance(item.get("leaf"), Mapping):
            problems.append(Problem(ProblemKind.MALFORMED_ENTRY, "entry needs a 'leaf' object", seq))
            hashes.append(_PLACEHOLDER)
            continue
        try:
            h = entry_leaf_hash(item["leaf"])
        except CanonicalError as exc:
            problems.append(Problem(ProblemKind.MALFORMED_ENTRY, str(exc), seq))
            h = _PLACEHOLDER
        if "seq" in item["leaf"] and item["leaf"]["seq"] != item.get("seq"):
            problems.append(Problem(ProblemKind.SEQUENCE_MISMATCH, "the entry's own seq differs", seq))
        if "leaf_hash" in item and unb64(item["leaf_hash"]) != h:
            problems.append(Problem(ProblemKind.LEAF_HASH_MISMATCH, "entry does not hash to its leaf hash", seq))
        hashes.append(h)
    return hashes


def _check_sequence(entries: list[Any], first_seq: int, problems: list[Problem]) -> None:
    seqs = [e.get("seq") if isinstance(e, Mapping) else None for e in entries]
    if any(not isinstance(s, int) or isinstance(s, bool) for s in seqs):
        bad = next(i for i, s in enumerate(seqs) if not isinstance(s, int) or isinstance(s, bool))
        problems.append(Problem(ProblemKind.MALFORMED_ENTRY, "entry without an integer 'seq'", first_seq + bad))
        return
    expected = list(range(first_seq, first_seq + len(seqs)))
    if sorted(seqs) == expected and seqs != expected:  # every entry present, but moved
        at = next(i for i, s in enumerate(seqs) if s != expected[i])
        problems.append(
            Problem(ProblemKind.SEQUENCE_OUT_OF_ORDER, f"entry {seqs[at]} stands where {expected[at]} belongs",
                    expected[at])
        )
        return
    nxt = first_seq
    for s in seqs:
        if s > nxt:
            missing = f"entry {nxt} is" if s == nxt + 1 else f"entries {nxt}..{s - 1} are"
            problems.append(Problem(ProblemKind.SEQUENCE_GAP, f"{missing} missing", nxt))
        elif s < nxt:
            problems.append(Problem(ProblemKind.SEQUENCE_OUT_OF_ORDER, f"entry {s} repeated or out of order", s))
        nxt = max(nxt, s + 1)


def _verified_checkpoints(
    notes: list[str], key: VerifierKey, origin: str, problems: list[Problem]
) -> list[tuple[int, Checkpoint]]:
    signed: list[tuple[int, Checkpoint]] = []
    for index, note in enumerate(notes):
        result = parse_and_verify(note, key)
        if not result.ok or result.checkpoint is None:
            desc = f"{result.reason}: {result.description}"
            problems.append(Problem(ProblemKind.CHECKPOINT_INVALID, desc, checkpoint=index))
        elif result.checkpoint.origin != origin:
            desc = f"checkpoint is for origin {result.checkpoint.origin!r}"
            problems.append(Problem(ProblemKind.CHECKPOINT_WRONG_ORIGIN, desc, checkpoint=index))
        else:
            signed.append((index, result.checkpoint))
    signed.sort(key=lambda item: item[1].size)
    return signed


def _check_roots(
    tree: CompactTree, hashes: list[bytes], signed: list[tuple[int, Checkpoint]], problems: list[Problem]
) -> tuple[int, set[int]]:
    """Recompute the root at each checkpoint's size in one pass: (largest verified size, matching ones)."""
    base, end, verified, last_good = tree.size, tree.size + len(hashes), 0, tree.size
    matched: set[int] = set()
    anchored = base == 0
    for index, cp in signed:
        if cp.size < base:
            continue  # before a partial export's base: vouched for by the export that covered it
        if cp.size > end:
            desc = f"checkpoint covers {cp.size} entries, the export ends at {end}: entries {end}.. are missing"
            problems.append(Problem(ProblemKind.CHECKPOINT_BEYOND_LOG, desc, end, index))
            continue
        while tree.size < cp.size:
            tree.append(hashes[tree.size - base])
        if tree.root() == cp.root:
            verified, last_good, anchored = cp.size, cp.size, anchored or cp.size == base
            matched.add(index)
            continue
        desc = f"entries do not match the signed root of size {cp.size}: one of {last_good}..{cp.size - 1} changed"
        problems.append(Problem(ProblemKind.CHECKPOINT_ROOT_MISMATCH, desc, last_good, index))
    if not anchored:
        problems.append(Problem(ProblemKind.BASE_UNANCHORED, f"no checkpoint of size {base} vouches for 'base'"))
    return verified, matched


def _check_consistency(
    hashes: list[bytes], signed: list[tuple[int, Checkpoint]], matched: set[int], problems: list[Problem]
) -> None:
    """Prove each signed checkpoint consistent with the next larger one (RFC 9162 §2.1.4).

    The proof is built from the entries, so it only speaks for a newer checkpoint the entries match;
    when it then fails, the log signed two views of history that cannot both be true.
    """
    usable = [(i, cp) for i, cp in signed if cp.size <= len(hashes)]
    for (old_index, old), (index, new) in zip(usable, usable[1:]):
        if index not in matched:
            continue  # already reported as a root mismatch
        if old_index in matched:
            continue  # both roots recomputed from one list of leaves: consistent by construction, and
            # skipping the O(n) proof keeps a million-entry export with many checkpoints linear
        proof = consistency_proof(hashes[: new.size], old.size)
        result = verify_consistency(old.size, new.size, old.root, new.root, proof)
        if not result.ok:
            desc = f"checkpoint {new.size} does not extend checkpoint {old.size}: history rewritten ({result.reason})"
            problems.append(Problem(ProblemKind.CHECKPOINTS_INCONSISTENT, desc, None, index))


class DocumentReason(enum.StrEnum):
    OK = "ok"
    MALFORMED = "malformed"
    CHECKPOINT_INVALID = "checkpoint_invalid"
    WRONG_ORIGIN = "wrong_origin"
    SIZE_MISMATCH = "size_mismatch"
    ENTRY_MISMATCH = "entry_mismatch"
    PROOF_INVALID = "proof_invalid"


@dataclass(frozen=True, slots=True)
class DocumentResult:
    reason: DocumentReason
    description: str

    @property
    def ok(self) -> bool:
        return self.reason is DocumentReason.OK


def inclusion_proof_document(
    leaf_hashes: Sequence[bytes], index: int, checkpoint_note: str, entry: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A self-contained, JSON-serialisable proof that entry `index` is in the signed checkpoint.

    Meant for the person who asked for erasure: with the log's public key they can check, offline, that
    the erasure entry was logged. `entry` (the canonical entry object) is included when given.
    """
    cp = read_unverified(checkpoint_note)
    if isinstance(cp, str):
        raise ValueError(f"not a checkpoint: {cp}")
    if not 0 <= index < cp.size <= len(leaf_hashes) or root(leaf_hashes[: cp.size]) != cp.root:
        raise ValueError("the checkpoint does not cover this entry, or the leaf hashes are not its tree")
    if entry is not None and entry_leaf_hash(entry) != leaf_hashes[index]:
        raise ValueError("the entry does not hash to the leaf at this index")
    doc: dict[str, Any] = {
        "format": PROOF_FORMAT,
        "origin": cp.origin,
        "index": index,
        "tree_size": cp.size,
        "leaf_hash": b64(leaf_hashes[index]),
        "audit_path": [b64(h) for h in inclusion_proof(leaf_hashes[: cp.size], index)],
        "checkpoint": checkpoint_note,
    }
    if entry is not None:
        doc["entry"] = dict(entry)
    return doc


def verify_proof_document(doc: Any, key: VerifierKey, origin: str | None = None) -> DocumentResult:
    """Check a document from `inclusion_proof_document` against the pinned key (and origin)."""
    parsed = _parse_document(doc)
    if isinstance(parsed, DocumentResult):
        return parsed
    index, size, leaf, path = parsed
    result = parse_and_verify(doc["checkpoint"], key)
    if not result.ok or result.checkpoint is None:
        return DocumentResult(DocumentReason.CHECKPOINT_INVALID, f"{result.reason}: {result.description}")
    cp = result.checkpoint
    if cp.origin != doc["origin"] or (origin is not None and cp.origin != origin):
        return DocumentResult(DocumentReason.WRONG_ORIGIN, f"checkpoint is for origin {cp.origin!r}")
    if cp.size != size:
        return DocumentResult(DocumentReason.SIZE_MISMATCH, f"proof is for size {size}, checkpoint is {cp.size}")
    entry_problem = _check_document_entry(doc.get("entry"), index, leaf)
    if entry_problem:
        return entry_problem
    proof = verify_inclusion(leaf, index, size, path, cp.root)
    if not proof.ok:
        return DocumentResult(DocumentReason.PROOF_INVALID, f"{proof.reason}: {proof.description}")
    return DocumentResult(DocumentReason.OK, f"entry {index} is in the signed log of size {size}")


def _parse_document(doc: Any) -> tuple[int, int, bytes, list[bytes]] | DocumentResult:
    def bad(why: str) -> DocumentResult:
        return DocumentResult(DocumentReason.MALFORMED, why)

    if not isinstance(doc, Mapping) or doc.get("format") != PROOF_FORMAT:
        return bad(f"not a {PROOF_FORMAT} document")
    index, size = doc.get("index"), doc.get("tree_size")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (index, size)):
        return bad("'index' and 'tree_size' must be integers")
    if not isinstance(doc.get("checkpoint"), str) or not isinstance(doc.get("origin"), str):
        return bad("'checkpoint' and 'origin' must be text")
    leaf = unb64(doc.get("leaf_hash"))
    raw_path = doc.get("audit_path")
    path = [unb64(h) for h in raw_path] if isinstance(raw_path, list) else [None]
    if leaf is None or any(h is None for h in path):
        return bad("'leaf_hash' and 'audit_path' must be base64 hashes")
    return index, size, leaf, path  # type: ignore[return-value]


def _check_document_entry(entry: Any, index: int, leaf: bytes) -> DocumentResult | None:
    if entry is None:
        return None
    try:
        if not isinstance(entry, Mapping) or entry_leaf_hash(entry) != leaf:
            return DocumentResult(DocumentReason.ENTRY_MISMATCH, "the entry does not hash to the leaf hash")
    except CanonicalError as exc:
        return DocumentResult(DocumentReason.ENTRY_MISMATCH, f"the entry is not canonical: {exc}")
    if "seq" in entry and entry["seq"] != index:
        return DocumentResult(DocumentReason.ENTRY_MISMATCH, f"entry says seq {entry['seq']}, proof says {index}")
    return None
