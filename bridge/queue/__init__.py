"""The durable job queue: enqueue, claim and finish (jobs), the worker's context and outcomes, the worker loop."""
