"""Sending posts to the fediverse: fan-out and delivery jobs, host health, remote mentions, domain blocks."""
