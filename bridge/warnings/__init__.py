"""Official warnings (NINA/BBK, DWD, any CAP 1.2 source, PEGELONLINE water levels) become pinned posts that are
edited with every update and lifted with the cancel: sources per kind, CAP parsing, the lane, the polls."""
