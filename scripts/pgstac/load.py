#!/usr/bin/env python3
"""Load gdal-lambda's STAC Items from S3 into pgstac with pypgstac's loader.

    scripts/pgstac/load.py s3://items-bucket/stac/ --collection uploads --dsn postgresql://…

Lists the Items (`*.json`) under the prefix, sets their `collection` (gdal-lambda's Items name
none: pgstac files every Item under one, and which one is the deployment's choice), writes them
as newline-delimited JSON and runs `pypgstac load items --method upsert` on that file, so a rerun
replaces Items that changed and adds none twice. Items without a geometry (a raster without a
CRS: a PNG, a JPEG, an ASCII grid) are left out and named: pgstac requires a geometry, and one such
Item would fail its whole batch. The collection is created first when the
database lacks it (`pypgstac load collections --method ignore`), with a whole-world extent.
The S3 client is boto3's: AWS_ENDPOINT_URL, AWS_PROFILE and the rest apply as usual.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

# pypgstac of the same environment as this Python (the project's .venv).
PYPGSTAC = str(Path(sys.executable).parent / "pypgstac")


def collection(collection_id):
    """A minimal STAC Collection for the Items of one deployment."""
    return {
        "type": "Collection", "stac_version": "1.1.0", "id": collection_id,
        "description": "Rasters described by Stratus gdal-lambda", "license": "other",
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}},
        "links": [],
    }


def read_items(s3, url):
    """Every Item under the s3:// prefix `url`, in key order."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for o in page.get("Contents", []):
            if o["Key"].endswith(".json"):
                yield json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())


def pypgstac(*args, dsn):
    subprocess.run([PYPGSTAC, *args, "--dsn", dsn], check=True, stdout=subprocess.DEVNULL)


def load(url, collection_id, dsn, s3=None):
    """Load the Items under `url` into `collection_id`; returns how many were loaded and the
    ids of those left out for having no geometry."""
    if s3 is None:
        import boto3
        s3 = boto3.client("s3")
    with tempfile.TemporaryDirectory(prefix="stratus-pgstac-") as work:
        collections, items = Path(work, "collections.ndjson"), Path(work, "items.ndjson")
        collections.write_text(json.dumps(collection(collection_id)) + "\n")
        count, unplaced = 0, []
        with items.open("w") as out:
            for item in read_items(s3, url):
                if item.get("geometry") is None:
                    unplaced.append(item["id"])
                    continue
                item["collection"] = collection_id
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
                count += 1
        pypgstac("load", "collections", str(collections), "--method", "ignore", dsn=dsn)
        if count:
            pypgstac("load", "items", str(items), "--method", "upsert", dsn=dsn)
    return count, unplaced


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="s3://bucket/prefix/ of the Items (gdal-lambda's OUTPUT_URL)")
    parser.add_argument("--collection", required=True, help="the pgstac collection to file them under")
    parser.add_argument("--dsn", required=True, help="the pgstac database (postgresql://…)")
    args = parser.parse_args()
    if not args.url.startswith("s3://"):
        sys.exit(f"load: {args.url!r} is not s3://bucket/prefix")
    count, unplaced = load(args.url, args.collection, args.dsn)
    print(f"load: {count} Items into {args.collection}")
    if unplaced:
        print(f"load: {len(unplaced)} Items left out, without a geometry: {', '.join(unplaced)}", file=sys.stderr)


if __name__ == "__main__":
    main()
