"""For the operator's tools, not for people: health and readiness probes, the Prometheus scrape."""
