"""The long-running processes' garbage collection: startup's heap frozen, cycles still collected."""

from __future__ import annotations

import gc
import weakref

import pytest

from bridge.cli import heap


@pytest.fixture
def settled():
    before = gc.get_threshold()
    heap.settle()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


class _Node:
    pass


def test_settle_freezes_startup_and_still_collects_new_cycles_without_being_asked(settled):
    assert gc.get_freeze_count() > 0  # what startup built is left out of later collections
    assert gc.get_threshold() == heap.THRESHOLDS
    node = _Node()
    node.self = node  # a cycle: reference counting alone never frees it
    gone = weakref.ref(node)
    del node
    junk = [[] for _ in range(heap.THRESHOLDS[0] * 3)]  # enough container allocations for a young collection
    del junk
    assert gone() is None
