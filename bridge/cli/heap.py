"""How the long-running processes (`serve`, `worker`) collect garbage.

By the time a process serves, imports, the ORM's mappers, templates and caches make a heap of several
hundred thousand objects that live as long as the process. CPython's cyclic collector walks all of them
on every full collection and collects the young generation every 700 allocations; under inbox load that
was a tenth of the process's CPU (measured with `gc.callbacks` in the inbox benchmark). Freezing the
startup heap takes it out of every later collection; a larger young threshold lets the many short-lived
objects of a request die by reference counting before a collection has to look at them.
"""

from __future__ import annotations

import gc

# Allocations between young collections (CPython's default is 700), then how many young and middle
# collections make the next older one run (CPython's defaults are 10 and 10).
THRESHOLDS = (10_000, 20, 20)


def settle() -> None:
    """Call once, when startup is done: collect what startup left behind, then freeze the rest."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
