"""RFC 9162 Merkle tree: published vectors, a recursive reference, and property tests."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.merkle import (
    EMPTY_ROOT,
    CompactTree,
    ProofReason,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# Vectors from transparency-dev/merkle, proof/verify_test.go (`leaves`, `roots`, `inclusionProofs`,
# `consistencyProofs`) and testonly/reference_test.go (TestRefInclusionProof, TestRefConsistencyProof);
# they are the RFC 6962 reference vectors of certificate-transparency. Note that `inclusionProofs` there
# number leaves from 1; the indices below are 0-based.
LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
H = {  # short names for the proof hashes of the vectors
    "96a2": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f08": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "bc1a": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca85": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37e": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "fac5": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "6e34": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "0ebc": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "b086": "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
}
INCLUSION = [  # (index, size, proof)
    (0, 1, []),
    (0, 2, ["96a2"]),
    (1, 2, ["6e34"]),
    (0, 8, ["96a2", "5f08", "6b47"]),
    (5, 8, ["bc1a", "ca85", "d37e"]),
    (2, 3, ["fac5"]),
    (1, 5, ["6e34", "5f08", "bc1a"]),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a2", "5f08", "6b47"]),
    (6, 8, ["0ebc", "ca85", "d37e"]),
    (2, 5, ["5f08", "bc1a"]),
    (6, 7, ["0ebc", "b086", "d37e"]),
]
HASHES = [leaf_hash(d) for d in LEAVES]


def _hashes(names: list[str]) -> list[bytes]:
    return [bytes.fromhex(H[n]) for n in names]


def _ref_root(d: list[bytes]) -> bytes:
    """MTH written straight from RFC 9162 §2.1.1, to cross-check the iterative code."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = 1 << ((len(d) - 1).bit_length() - 1)
    return node_hash(_ref_root(d[:k]), _ref_root(d[k:]))


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def test_empty_tree_root_is_sha256_of_nothing():
    assert root([]) == EMPTY_ROOT == bytes.fromhex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_reference_vectors(size):
    assert root(HASHES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "names"), INCLUSION)
def test_inclusion_proofs_match_reference_vectors(index, size, names):
    proof = inclusion_proof(HASHES[:size], index)
    assert proof == _hashes(names)
    assert verify_inclusion(HASHES[index], index, size, proof, ROOTS[size - 1]).ok


@pytest.mark.parametrize(("old", "new", "names"), CONSISTENCY)
def test_consistency_proofs_match_reference_vectors(old, new, names):
    proof = consistency_proof(HASHES[:new], old)
    assert proof == _hashes(names)
    assert verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof).ok


def test_corrupted_reference_inclusion_proofs_fail():
    # The probes of transparency-dev's corruptInclusionProof, on the index-5-of-8 vector.
    proof, r, leaf = _hashes(["bc1a", "ca85", "d37e"]), ROOTS[7], HASHES[5]
    probes = [
        (leaf, 4, 8, proof, r), (leaf, 6, 8, proof, r), (leaf, 5 ^ 2, 8, proof, r),
        (leaf, 5, 16, proof, r), (leaf, 5, 4, proof, r), (HASHES[4], 5, 8, proof, r),
        (leaf, 5, 8, proof, EMPTY_ROOT), (leaf, 5, 8, proof + [r], r), (leaf, 5, 8, [r] + proof, r),
        (leaf, 5, 8, proof[:-1], r), (leaf, 5, 8, [proof[0], bytes(32)] + proof[1:], r),
    ]
    for probe in probes:
        assert not verify_inclusion(*probe).ok, probe


def test_corrupted_reference_consistency_proofs_fail():
    proof, r1, r2 = _hashes(["0ebc", "ca85", "d37e"]), ROOTS[5], ROOTS[7]
    probes = [
        (5, 8, r1, r2, proof), (7, 8, r1, r2, proof), (6 ^ 2, 8, r1, r2, proof), (6, 16, r1, r2, proof),
        (6, 4, r1, r2, proof), (6, 8, r2, r1, proof), (6, 8, r1, r2, []), (6, 8, r1, r2, proof + [r1]),
        (6, 8, r1, r2, [r2] + proof), (6, 8, r1, r2, [proof[0]] + proof), (6, 8, r1, r2, proof[:-1]),
    ]
    for probe in probes:
        assert not verify_consistency(*probe).ok, probe


def test_verification_reasons_are_specific():
    assert verify_inclusion(HASHES[0], 8, 8, [], ROOTS[7]).reason is ProofReason.INDEX_OUT_OF_RANGE
    assert verify_inclusion(b"short", 0, 1, [], ROOTS[0]).reason is ProofReason.MALFORMED_HASH
    assert verify_inclusion(HASHES[0], 0, 2, [], ROOTS[1]).reason is ProofReason.WRONG_PROOF_LENGTH
    assert verify_consistency(2, 1, ROOTS[1], ROOTS[0], []).reason is ProofReason.SIZES_OUT_OF_ORDER
    assert verify_consistency(1, 2, ROOTS[0], ROOTS[1], []).reason is ProofReason.EMPTY_PROOF
    assert verify_consistency(2, 2, ROOTS[1], ROOTS[1], [ROOTS[0]]).reason is ProofReason.UNEXPECTED_PROOF
    assert verify_consistency(2, 2, ROOTS[1], ROOTS[2], []).reason is ProofReason.NEW_ROOT_MISMATCH
    assert verify_consistency(0, 5, EMPTY_ROOT, ROOTS[4], []).ok
    assert verify_consistency(0, 5, ROOTS[0], ROOTS[4], []).reason is ProofReason.OLD_ROOT_MISMATCH


def test_proof_generation_rejects_impossible_arguments():
    with pytest.raises(ValueError):
        inclusion_proof(HASHES[:3], 3)
    with pytest.raises(ValueError):
        consistency_proof(HASHES[:3], 4)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_every_proof_verifies_for_all_sizes_up_to_64():
    hashes = _leaves(64)
    roots = [root(hashes[:n]) for n in range(65)]
    for n in range(1, 65):
        assert roots[n] == _ref_root(hashes[:n])
        for i in range(n):
            assert verify_inclusion(hashes[i], i, n, inclusion_proof(hashes[:n], i), roots[n]).ok
        for m in range(n + 1):
            assert verify_consistency(m, n, roots[m], roots[n], consistency_proof(hashes[:n], m)).ok


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 64).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.integers(0, 255))))
def test_any_bit_flip_breaks_inclusion(args):
    n, i, bit = args
    hashes = _leaves(n)
    r, proof = root(hashes), inclusion_proof(hashes, i)
    assert not verify_inclusion(_flip(hashes[i], bit), i, n, proof, r).ok
    assert not verify_inclusion(hashes[i], i, n, proof, _flip(r, bit)).ok
    for k in range(len(proof)):
        bad = proof[:k] + [_flip(proof[k], bit)] + proof[k + 1 :]
        assert not verify_inclusion(hashes[i], i, n, bad, r).ok


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 64).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n - 1), st.integers(0, 255))))
def test_any_bit_flip_breaks_consistency(args):
    n, m, bit = args
    hashes = _leaves(n)
    old, new, proof = root(hashes[:m]), root(hashes), consistency_proof(hashes, m)
    assert not verify_consistency(m, n, _flip(old, bit), new, proof).ok
    assert not verify_consistency(m, n, old, _flip(new, bit), proof).ok
    for k in range(len(proof)):
        bad = proof[:k] + [_flip(proof[k], bit)] + proof[k + 1 :]
        assert not verify_consistency(m, n, old, new, bad).ok


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=8), max_size=100))
def test_incremental_root_equals_batch_root(data):
    hashes = [leaf_hash(d) for d in data]
    tree = CompactTree()
    for n, h in enumerate(hashes):
        assert tree.append(h) == n
        assert tree.root() == _ref_root(hashes[: n + 1])
    assert tree.root() == root(hashes)
    size, nodes = tree.state()
    assert len(nodes) == size.bit_count()
    resumed = CompactTree.from_state(size, nodes)
    resumed.append(leaf_hash(b"next"))
    assert resumed.root() == root(hashes + [leaf_hash(b"next")])


def test_compact_tree_state_is_validated():
    with pytest.raises(ValueError):
        CompactTree.from_state(3, [bytes(32)])
    with pytest.raises(ValueError):
        CompactTree().append(b"not a hash")


def test_proofs_stay_logarithmic_at_a_few_thousand_leaves():
    hashes = _leaves(3000)
    r = root(hashes)
    for i in (0, 1, 1499, 2047, 2048, 2999):
        proof = inclusion_proof(hashes, i)
        assert len(proof) <= 12
        assert verify_inclusion(hashes[i], i, 3000, proof, r).ok
    for m in (1, 1024, 2047, 2999):
        assert verify_consistency(m, 3000, root(hashes[:m]), r, consistency_proof(hashes, m)).ok
