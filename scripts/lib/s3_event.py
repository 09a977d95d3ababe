"""The S3 ObjectCreated:Put notification that S3 sends for uploads, keys form-encoded as S3
encodes them: what scripts/demo and scripts/images/test.sh deliver to gdal-lambda.

    sys.path.insert(0, "scripts/lib"); from s3_event import object_created
"""

import datetime
import urllib.parse


def object_created(bucket: str, objects: dict[str, int], who: str = "TEST") -> dict:
    """The event for `objects` (key: size in bytes) put into `bucket`, one record each; `who`
    names the requester and the request ids."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": now, "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": f"AWS:{who}"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": who, "x-amz-id-2": who},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "raster-upload",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": who}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": size, "eTag": who.lower(),
                          "sequencer": "0"}},
    } for key, size in objects.items()]}
