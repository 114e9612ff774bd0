"""Everything about people outside the authority, and the audit log.

Never imports bridge, activitypub or feeds; makes no HTTP calls and renders no HTML."""
