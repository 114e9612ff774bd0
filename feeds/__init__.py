"""Feed rendering and import: RSS 2.0, Atom 1.0, JSON Feed 1.1.

Never imports bridge, activitypub or consent."""
