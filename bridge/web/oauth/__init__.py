"""The OAuth 2 endpoints Mastodon apps sign in with: /oauth/authorize (a page), /oauth/token, /oauth/revoke."""
