"""Writing posts: drafts, approval, edits, schedules, the timeline, uploads, idempotency, feed imports, WebSub pings."""
