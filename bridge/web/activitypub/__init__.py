"""ActivityPub over HTTP: the inbox and the documents (actor, outbox, notes, WebFinger, NodeInfo)."""
