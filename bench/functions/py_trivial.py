"""A trivial Python function for the runner-overhead benchmark: it reports
when it received its event."""
import time


def handler(event, context):
    return {"received_at_ns": time.time_ns(), "echo": event}
