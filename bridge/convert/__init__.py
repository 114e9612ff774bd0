"""The one conversion layer: posts to Mastodon statuses, ActivityPub documents and feed entries; text to HTML; images."""
