"""Offline verification of audit exports and inclusion-proof documents."""

from __future__ import annotations

import copy
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.canonical import CanonicalError, b64, canonical_bytes
from consent.checkpoint import VerifierKey, sign_checkpoint
from consent.merkle import CompactTree, leaf_hash, root
from consent.verifier import (
    DocumentReason,
    ProblemKind,
    entry_leaf_hash,
    inclusion_proof_document,
    verify_export,
    verify_proof_document,
)

ORIGIN = "stadt.example/audit"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KEY = VerifierKey(ORIGIN, LOG_KEY.public_key())


def _entry(seq: int) -> dict:
    return {"seq": seq, "action": "reply.stored", "subject": f"ps{seq:030d}", "basis": "art6_1_e", "n": seq * 3}


def _checkpoint(leaves: list[dict], size: int, key: Ed25519PrivateKey = LOG_KEY) -> str:
    return sign_checkpoint(ORIGIN, size, root([entry_leaf_hash(e) for e in leaves[:size]]), key, ORIGIN)


def _export(n: int = 12, sizes: tuple[int, ...] = (4, 9, 12)) -> dict:
    leaves = [_entry(i) for i in range(n)]
    return {
        "origin": ORIGIN,
        "entries": [{"seq": e["seq"], "leaf": e} for e in leaves],
        "checkpoints": [_checkpoint(leaves, s) for s in sizes],
    }


def _kinds(report) -> set[ProblemKind]:
    return {p.kind for p in report.problems}


def test_canonical_bytes_are_sorted_compact_utf8():
    assert canonical_bytes({"b": 1, "a": "Köln", "c": [True, None]}) == '{"a":"Köln","b":1,"c":[true,null]}'.encode()
    for bad in ({"x": 1.5}, {"x": 2**60}, {1: "x"}, {"x": object()}, {"x": "\ud800"}):
        with pytest.raises(CanonicalError):
            canonical_bytes(bad)


def test_intact_export_verifies_and_survives_json():
    export = json.loads(json.dumps(_export()))
    report = verify_export(export, KEY, ORIGIN)
    assert report.ok, report.problems
    assert (report.entries, report.verified_size, report.checkpoints_verified) == (12, 12, 3)
    assert report.to_dict()["ok"] is True


def test_modified_entry_is_located_between_checkpoints():
    export = _export()
    export["entries"][6]["leaf"]["action"] = "reply.deleted"
    report = verify_export(export, KEY)
    assert ProblemKind.CHECKPOINT_ROOT_MISMATCH in _kinds(report)
    assert report.verified_size == 4  # the first checkpoint still holds
    assert report.first_problem.seq == 4  # "one of 4..8 changed"


def test_modified_entry_with_stored_leaf_hash_is_pinpointed():
    export = _export()
    for item in export["entries"]:
        item["leaf_hash"] = b64(entry_leaf_hash(item["leaf"]))
    export["entries"][6]["leaf"]["n"] = 0
    report = verify_export(export, KEY)
    mismatch = [p for p in report.problems if p.kind is ProblemKind.LEAF_HASH_MISMATCH]
    assert [p.seq for p in mismatch] == [6]
    assert report.first_problem.seq == 6


def test_deleted_entry_is_a_gap():
    export = _export()
    del export["entries"][5]
    report = verify_export(export, KEY)
    gaps = [p for p in report.problems if p.kind is ProblemKind.SEQUENCE_GAP]
    assert [p.seq for p in gaps] == [5]
    assert report.first_problem.kind is ProblemKind.SEQUENCE_GAP and report.first_problem.seq == 5


def test_deleted_tail_is_caught_by_the_checkpoint():
    export = _export()
    del export["entries"][10:]
    report = verify_export(export, KEY)
    assert ProblemKind.CHECKPOINT_BEYOND_LOG in _kinds(report)
    assert report.verified_size == 9


def test_reordered_entries_are_detected():
    export = _export()
    entries = export["entries"]
    entries[2], entries[3] = entries[3], entries[2]
    report = verify_export(export, KEY)
    assert ProblemKind.SEQUENCE_OUT_OF_ORDER in _kinds(report)
    assert report.first_problem.kind is ProblemKind.SEQUENCE_OUT_OF_ORDER and report.first_problem.seq == 2


def test_reordered_leaves_with_renumbered_seq_break_the_root():
    export = _export()
    a, b = export["entries"][2]["leaf"], export["entries"][3]["leaf"]
    export["entries"][2]["leaf"], export["entries"][3]["leaf"] = b, a
    export["entries"][2]["seq"], export["entries"][3]["seq"] = 2, 3
    report = verify_export(export, KEY)
    assert ProblemKind.CHECKPOINT_ROOT_MISMATCH in _kinds(report)
    assert ProblemKind.SEQUENCE_MISMATCH in _kinds(report)  # leaf says seq 3 at position 2


def test_inserted_entry_is_detected():
    export = _export()
    export["entries"].insert(3, {"seq": 3, "leaf": _entry(3) | {"action": "forged"}})
    report = verify_export(export, KEY)
    assert ProblemKind.SEQUENCE_OUT_OF_ORDER in _kinds(report)
    assert not report.ok


def test_forged_checkpoint_is_rejected():
    export = _export()
    impostor = Ed25519PrivateKey.generate()
    leaves = [e["leaf"] for e in export["entries"]]
    export["checkpoints"].append(_checkpoint(leaves, 12, impostor))
    export["checkpoints"][0] = export["checkpoints"][0].replace("\n4\n", "\n5\n")
    report = verify_export(export, KEY)
    invalid = {p.checkpoint for p in report.problems if p.kind is ProblemKind.CHECKPOINT_INVALID}
    assert invalid == {0, 3}
    assert report.verified_size == 12  # the genuine checkpoints still verify


def test_rewritten_history_is_an_inconsistent_checkpoint():
    export = _export()
    leaves = [copy.deepcopy(e["leaf"]) for e in export["entries"]]
    leaves[2]["action"] = "rewritten"
    # The operator rewrote entry 2 and signed new checkpoints over the rewritten log.
    export["entries"] = [{"seq": e["seq"], "leaf": e} for e in leaves]
    export["checkpoints"][1:] = [_checkpoint(leaves, 9), _checkpoint(leaves, 12)]
    report = verify_export(export, KEY)
    assert ProblemKind.CHECKPOINT_ROOT_MISMATCH in _kinds(report)  # checkpoint 4 no longer matches
    assert ProblemKind.CHECKPOINTS_INCONSISTENT in _kinds(report)  # 9 does not extend 4
    assert report.first_problem.seq == 0


def test_fork_at_equal_size_is_inconsistent():
    export = _export()
    leaves = [copy.deepcopy(e["leaf"]) for e in export["entries"]]
    leaves[1]["n"] = -1
    export["checkpoints"].insert(0, _checkpoint(leaves, 9))
    report = verify_export(export, KEY)
    assert ProblemKind.CHECKPOINT_ROOT_MISMATCH in _kinds(report)
    assert ProblemKind.CHECKPOINTS_INCONSISTENT in _kinds(report)


def test_wrong_origin_and_missing_checkpoints():
    export = _export()
    other = sign_checkpoint("elsewhere.example", 4, root([]), LOG_KEY, ORIGIN)
    export["checkpoints"] = [other]
    report = verify_export(export, KEY)
    assert _kinds(report) == {ProblemKind.CHECKPOINT_WRONG_ORIGIN, ProblemKind.NO_CHECKPOINT}
    assert verify_export(_export(), KEY, origin="pinned.example").problems[0].kind is ProblemKind.MALFORMED_EXPORT


@pytest.mark.parametrize(
    "export",
    [None, [], {"origin": ORIGIN}, {"origin": "", "entries": [], "checkpoints": []},
     {"origin": ORIGIN, "entries": [], "checkpoints": [1]}],
)
def test_malformed_exports_never_raise(export):
    report = verify_export(export, KEY)
    assert [p.kind for p in report.problems] == [ProblemKind.MALFORMED_EXPORT]


def test_malformed_entries_are_reported_in_place():
    export = _export()
    export["entries"][1]["leaf"]["x"] = 0.5
    export["entries"][2] = {"seq": 2}
    report = verify_export(export, KEY)
    assert [p.seq for p in report.problems if p.kind is ProblemKind.MALFORMED_ENTRY] == [1, 2]


def test_partial_export_from_an_anchored_base():
    full = _export(12, (4, 9, 12))
    leaves = [e["leaf"] for e in full["entries"]]
    tree = CompactTree()
    for e in leaves[:4]:
        tree.append(entry_leaf_hash(e))
    size, nodes = tree.state()
    partial = {**full, "entries": full["entries"][4:], "base": {"size": size, "nodes": [b64(n) for n in nodes]}}
    assert verify_export(partial, KEY).ok
    partial["checkpoints"] = full["checkpoints"][1:]  # nothing vouches for the base any more
    assert ProblemKind.BASE_UNANCHORED in _kinds(verify_export(partial, KEY))


def test_empty_log_verifies():
    export = {"origin": ORIGIN, "entries": [], "checkpoints": [sign_checkpoint(ORIGIN, 0, root([]), LOG_KEY, ORIGIN)]}
    assert verify_export(export, KEY).ok


MUTATIONS = st.sampled_from(["modify", "delete", "insert", "swap", "drop_checkpoint_tail"])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 40).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.integers(0, n - 1), MUTATIONS)
    )
)
def test_any_tampering_is_detected(args):
    n, i, j, mutation = args
    export = _export(n, tuple(sorted({1, max(1, n // 2), n})))
    entries = export["entries"]
    if mutation == "modify":
        entries[i]["leaf"]["action"] = "tampered"
    elif mutation == "delete":
        del entries[i]
    elif mutation == "insert":
        entries.insert(i, {"seq": i, "leaf": _entry(i) | {"n": -1}})
    elif mutation == "swap":
        if i == j:
            j = (i + 1) % n
        entries[i], entries[j] = entries[j], entries[i]
    else:
        del entries[i:]
    assert not verify_export(export, KEY).ok


def _log(n: int) -> tuple[list[dict], list[bytes]]:
    leaves = [_entry(i) | {"action": "subject.erased"} for i in range(n)]
    return leaves, [entry_leaf_hash(e) for e in leaves]


def test_proof_document_round_trip_through_json():
    leaves, hashes = _log(13)
    note = _checkpoint(leaves, 13)
    doc = json.loads(json.dumps(inclusion_proof_document(hashes, 7, note, leaves[7])))
    assert doc["tree_size"] == 13 and doc["entry"]["seq"] == 7
    result = verify_proof_document(doc, KEY, ORIGIN)
    assert result.ok, result


def test_proof_document_tampering_is_rejected():
    leaves, hashes = _log(13)
    doc = inclusion_proof_document(hashes, 7, _checkpoint(leaves, 13), leaves[7])
    cases = {
        DocumentReason.ENTRY_MISMATCH: {"entry": leaves[7] | {"subject": "someone else"}},
        DocumentReason.PROOF_INVALID: {"index": 6, "entry": None},
        DocumentReason.SIZE_MISMATCH: {"tree_size": 12},
        DocumentReason.MALFORMED: {"audit_path": ["not base64!"]},
        DocumentReason.CHECKPOINT_INVALID: {"checkpoint": _checkpoint(leaves, 13, Ed25519PrivateKey.generate())},
        DocumentReason.WRONG_ORIGIN: {"origin": "other.example"},
    }
    for reason, change in cases.items():
        forged = {**doc, **change}
        if forged.get("entry") is None:
            forged.pop("entry")
        assert verify_proof_document(forged, KEY).reason is reason, reason
    path = list(doc["audit_path"])
    path[0] = b64(leaf_hash(b"x"))
    assert verify_proof_document({**doc, "audit_path": path}, KEY).reason is DocumentReason.PROOF_INVALID


def test_proof_document_refuses_a_checkpoint_that_does_not_cover_the_entry():
    leaves, hashes = _log(13)
    with pytest.raises(ValueError):
        inclusion_proof_document(hashes, 9, _checkpoint(leaves, 8))
    with pytest.raises(ValueError):
        inclusion_proof_document(hashes, 3, _checkpoint(leaves, 8), leaves[4])
