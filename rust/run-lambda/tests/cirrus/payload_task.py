"""A Cirrus task built on cirrus-geo's payload helpers: it takes the payload
in any form Cirrus sends one (bare, SQS, SNS, or a `url` pointer), checks it
with cirrus-geo's own validation, and needs a `data` asset on every Item."""

from cirrus.lib.cirrus_payload import CirrusPayload
from stactask.exceptions import InvalidInput


def handler(event, context):
    payload = CirrusPayload.from_event(event)
    try:
        payload.validate()
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"not a Cirrus payload: {e}") from e
    for item in payload.items_as_dicts:
        if "data" not in item.get("assets", {}):
            raise InvalidInput(f"Item {item['id']} has no data asset")
        item["properties"]["payload-task:checked"] = True
    return dict(payload)
