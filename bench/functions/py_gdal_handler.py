"""What a Python GDAL Lambda does for each uploaded raster: open it through
/vsis3/, log gdal.Info as one JSON record, write a JSON document to S3.
The peer of gdal-lambda in the benchmarks."""
import json
import os
import urllib.parse

import boto3
from osgeo import gdal

gdal.UseExceptions()
gdal.SetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
S3 = boto3.client("s3")
OUT_BUCKET, _, OUT_PREFIX = os.environ["OUTPUT_URL"][len("s3://"):].partition("/")


def handler(event, context):
    out = []
    for rec in event["Records"]:
        bucket = rec["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(rec["s3"]["object"]["key"])
        ds = gdal.Open(f"/vsis3/{bucket}/{key}")
        info = gdal.Info(ds, format="json")
        print(json.dumps({"message": "raster metadata", "bucket": bucket, "key": key, "raster": info}))
        S3.put_object(Bucket=OUT_BUCKET, Key=f"{OUT_PREFIX}{key}.json", Body=json.dumps(info).encode())
        out.append({"key": key, "status": "processed"})
    return {"records": out}
