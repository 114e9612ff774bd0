"""Shared set-ups of the bridge tests (a signed-in browser, an inbox with peers, a worker with platform fakes)."""
