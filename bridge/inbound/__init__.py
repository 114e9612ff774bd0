"""Inbound ActivityPub: the inbox pipeline (`pipeline`) and one handler module per activity type."""
