"""Property tests: whatever is done to an exported log — an entry changed, removed, inserted or moved, a
checkpoint changed, removed or forged — the offline verification notices; proofs hold at every size."""

from __future__ import annotations

import copy

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.canonical import b64
from consent.checkpoint import VerifierKey, sign_checkpoint
from consent.merkle import consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion
from consent.verifier import entry_leaf_hash, verify_export

ORIGIN = "stadt.example/audit"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(7, 39)))
PINNED = VerifierKey(ORIGIN, KEY.public_key())
FORGER = Ed25519PrivateKey.from_private_bytes(bytes(range(40, 72)))
LEAVES = [leaf_hash(f"leaf {i}".encode()) for i in range(3000)]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def entry(seq: int) -> dict:
    return {"seq": seq, "ts": f"2026-11-{1 + seq % 28:02d}T10:00:00.000000Z", "action": "reply.stored",
            "actor_role": "remote", "actor_ref": f"p{seq:031d}", "subject_ref": f"p{seq:031d}", "outcome": "ok",
            "reason": None, "purpose": "moderation", "legal_basis": "gdpr_6_1_e", "retention_class": "audit",
            "details": {"n": seq}}


def make_export(n: int, sizes: list[int]) -> dict:
    leaves = [entry(i) for i in range(n)]
    hashes = [entry_leaf_hash(e) for e in leaves]
    notes = [sign_checkpoint(ORIGIN, s, root(hashes[:s]), KEY, ORIGIN) for s in sorted(set(sizes) | {n})]
    return {"origin": ORIGIN, "checkpoints": notes,
            "entries": [{"seq": e["seq"], "leaf": e, "leaf_hash": b64(h)} for e, h in zip(leaves, hashes)]}


def detected(export: dict) -> bool:
    """What `stadtbote audit verify` fails on: a problem, or entries no signed checkpoint vouches for."""
    report = verify_export(export, PINNED, ORIGIN)
    return not report.ok or report.verified_size < report.entries


logs = st.integers(2, 40).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.integers(1, n), max_size=4)))


@FAST
@given(logs)
def test_an_untouched_export_verifies(log):
    assert not detected(make_export(*log))


@FAST
@given(logs, st.data(), st.booleans())
def test_a_changed_entry_is_detected_and_named(log, data, rehash):
    export = make_export(*log)
    i = data.draw(st.integers(0, log[0] - 1))
    leaf = export["entries"][i]["leaf"]
    field = data.draw(st.sampled_from(["action", "outcome", "subject_ref", "ts", "details"]))
    leaf[field] = {"n": -1} if field == "details" else str(leaf[field]) + "x"
    if rehash:  # a careful forger recomputes the leaf hash; the signed root still differs
        export["entries"][i]["leaf_hash"] = b64(entry_leaf_hash(leaf))
    report = verify_export(export, PINNED, ORIGIN)
    assert not report.ok
    assert report.first_problem.seq == i if not rehash else report.first_problem.seq <= i


@FAST
@given(logs, st.data())
def test_a_removed_entry_is_detected(log, data):
    export = make_export(*log)
    del export["entries"][data.draw(st.integers(0, log[0] - 1))]
    assert detected(export)


@FAST
@given(logs, st.data())
def test_an_inserted_entry_is_detected(log, data):
    export = make_export(*log)
    i = data.draw(st.integers(0, log[0]))
    forged = entry(i) | {"action": "subject.erased"}
    export["entries"].insert(i, {"seq": i, "leaf": forged, "leaf_hash": b64(entry_leaf_hash(forged))})
    for later in export["entries"][i + 1:] if data.draw(st.booleans()) else []:
        later["seq"] += 1  # renumbering the rest does not help either
        later["leaf"]["seq"] += 1
    assert detected(export)


@FAST
@given(logs, st.data())
def test_reordered_entries_are_detected(log, data):
    export = make_export(*log)
    i, j = data.draw(st.lists(st.integers(0, log[0] - 1), min_size=2, max_size=2, unique=True))
    entries = export["entries"]
    entries[i], entries[j] = entries[j], entries[i]
    if data.draw(st.booleans()):  # also swap the numbers, so the sequence looks intact
        for k in (i, j):
            entries[k] = copy.deepcopy(entries[k])
            entries[k]["seq"] = entries[k]["leaf"]["seq"] = k
    assert detected(export)


@FAST
@given(logs, st.data())
def test_a_changed_removed_or_forged_checkpoint_is_detected(log, data):
    export = make_export(*log)
    how = data.draw(st.sampled_from(["change", "remove_last", "forge"]))
    notes = export["checkpoints"]
    if how == "change":
        k = data.draw(st.integers(0, len(notes) - 1))
        lines = notes[k].split("\n")
        lines[1] = str(int(lines[1]) + 1)
        notes[k] = "\n".join(lines)
    elif how == "remove_last":
        notes.pop()
    else:
        size = data.draw(st.integers(1, log[0]))
        notes.append(sign_checkpoint(ORIGIN, size, bytes(32), FORGER, ORIGIN))
    assert detected(export)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, len(LEAVES)).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1),
                                                                 st.integers(0, n))))
def test_inclusion_and_consistency_proofs_verify_at_every_size(case):
    n, index, old = case
    tree = LEAVES[:n]
    top = root(tree)
    assert verify_inclusion(tree[index], index, n, inclusion_proof(tree, index), top).ok
    assert verify_consistency(old, n, root(tree[:old]), top, consistency_proof(tree, old)).ok
    other = (index + 1) % n
    if tree[other] != tree[index]:
        assert not verify_inclusion(tree[other], index, n, inclusion_proof(tree, index), top).ok
