"""ActivityPub protocol library: vocabulary, signatures, discovery documents, guarded fetches.

Never imports bridge, feeds or consent."""
