#!/usr/bin/env python3
"""`just backfill s3://bucket/prefix`: STAC Items for the objects already under a prefix.

Deployed (the default), with the resources `terraform output backfill` names:
  --engine batch-operations  (default) an S3 Batch Operations job whose manifest S3 generates from
                             the prefix (S3JobManifestGenerator); progress from DescribeJob, then
                             the completion report's counts.
  --engine distributed-map   an execution of the Distributed Map state machine over the prefix;
                             progress from DescribeMapRun, then the per-item results' counts.
  --dry-run                  print the request instead of sending it.

--local: the same with no AWS account. moto on loopback (started here) gets --samples small COGs
and a text file under the prefix, and the real gdal-lambda binary answers the events each engine
sends (one task per invocation for S3 Batch Operations, batches of --batch-size listing items for
the Distributed Map) through run-lambda's Runtime API. --runs 2 runs the backfill again: the
second run finds every Item current.
"""

import argparse
import collections
import csv
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "debug"
ENGINES = ("batch-operations", "distributed-map")


def split_url(url):
    if not url.startswith("s3://") or not url[5:].split("/")[0]:
        sys.exit(f"backfill: {url!r} is not s3://bucket/prefix")
    bucket, _, prefix = url[5:].partition("/")
    return bucket, prefix


def progress(done, total, counts):
    width = 30
    filled = width * done // total if total else width
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  {summary}   ",
          end="", file=sys.stderr, flush=True)


# --- events as each engine sends them ------------------------------------------------

def batch_operations_event(bucket, key, n):
    """An S3 Batch Operations invocation, schema 2.0: one task, its key URL-encoded as in manifests."""
    return {
        "invocationSchemaVersion": "2.0",
        "invocationId": f"local-invocation-{n}",
        "job": {"id": "local-job", "userArguments": {}},
        "tasks": [{"taskId": f"task-{n}", "s3Key": urllib.parse.quote_plus(key, safe="/"),
                   "s3VersionId": None, "s3Bucket": bucket}],
    }


def distributed_map_event(bucket, objects):
    """A Distributed Map batch of ListObjectsV2 items, the bucket in BatchInput."""
    return {"BatchInput": {"bucket": bucket}, "Items": [
        {"Etag": o["ETag"], "Key": o["Key"], "LastModified": int(o["LastModified"].timestamp()),
         "Size": o["Size"], "StorageClass": o.get("StorageClass", "STANDARD")} for o in objects]}


# --- local: moto, samples, the real binary through run-lambda ------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(log):
    port = free_port()
    server = os.environ.get("MOTO_SERVER", str(ROOT / ".venv" / "bin" / "moto_server"))
    proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                      AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, endpoint
        except OSError:
            if proc.poll() is not None:
                sys.exit("backfill: moto_server exited before answering")
            time.sleep(0.1)
    proc.terminate()
    sys.exit("backfill: moto_server did not answer")


def make_samples(s3, bucket, prefix, count, work):
    src, cog = work / "src.tif", work / "sample.tif"
    subprocess.run(["gdal_create", "-q", "-of", "GTiff", "-outsize", "256", "256", "-bands", "1", "-burn", "7",
                    "-a_srs", "EPSG:32633", "-a_ullr", "500000", "5000000", "502560", "4997440", str(src)], check=True)
    subprocess.run(["gdal_translate", "-q", "-of", "COG", str(src), str(cog)], check=True)
    s3.create_bucket(Bucket=bucket)
    for i in range(count):
        s3.upload_file(str(cog), bucket, f"{prefix}scene {i:05d}+a.tif")
    s3.put_object(Bucket=bucket, Key=f"{prefix}notes.txt", Body=b"not a raster")


def list_objects(s3, bucket, prefix):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o for page in pages for o in page.get("Contents", [])]


def invoke_local(event, work, n, output):
    event_file, response_file = work / f"event-{n}.json", work / f"response-{n}.json"
    event_file.write_text(json.dumps(event))
    run = subprocess.run(
        [str(BIN / "run-lambda"), "exec", str(BIN / "gdal-lambda"), "--runtime", "provided.al2023",
         "--function-name", "stratus-backfill", "--timeout", "300", "--payload", str(event_file),
         "--output", str(response_file), "--env", f"OUTPUT_URL={output}", "--env", "AWS_LAMBDA_LOG_FORMAT=JSON"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode != 0:
        return None, run.stderr[-2000:]
    return json.loads(response_file.read_text()), None


def run_local(args, bucket, prefix):
    import boto3
    work = Path(tempfile.mkdtemp(prefix="stratus-backfill-"))
    with open(work / "moto.log", "w") as log:
        moto, endpoint = start_moto(log)
        try:
            s3 = boto3.client("s3")
            make_samples(s3, bucket, prefix, args.samples, work)
            output = args.output or f"s3://{bucket}/stac/"
            objects = list_objects(s3, bucket, prefix)
            print(f"moto on {endpoint}: {len(objects)} objects under s3://{bucket}/{prefix}, Items to {output}",
                  file=sys.stderr)
            for run in range(1, args.runs + 1):
                started = time.monotonic()
                counts = local_pass(args.engine, objects, bucket, work, output, args.batch_size, run)
                took = time.monotonic() - started
                print(f"\nrun {run} ({args.engine}, {took:.1f} s): "
                      + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        finally:
            moto.terminate()
            moto.wait()


def local_pass(engine, objects, bucket, work, output, batch_size, run):
    counts = collections.Counter()
    done, n = 0, 0
    if engine == "batch-operations":
        for o in objects:
            n += 1
            response, error = invoke_local(batch_operations_event(bucket, o["Key"], n), work, f"{run}-{n}", output)
            # A failed invocation is a failed task to S3 (retried like TemporaryFailure).
            for r in (response or {}).get("results", []) or [{"resultCode": "InvocationFailed", "resultString": error}]:
                label = r["resultCode"]
                if label == "Succeeded" and r["resultString"].startswith(("unchanged:", "skipped:")):
                    label += " (" + r["resultString"].split(":", 1)[0] + ")"
                counts[label] += 1
            done += 1
            progress(done, len(objects), counts)
    else:
        for i in range(0, len(objects), batch_size):
            batch = objects[i:i + batch_size]
            n += 1
            # The state machine's Retry: a batch failing transiently runs again.
            for attempt in range(3):
                response, error = invoke_local(distributed_map_event(bucket, batch), work, f"{run}-{n}-{attempt}", output)
                if response is not None:
                    break
            if response is None:
                counts["batch failed"] += len(batch)
            else:
                counts.update(r["status"] for r in response["records"])
            done += len(batch)
            progress(done, len(objects), counts)
    return counts


# --- deployed: the engines themselves ------------------------------------------------

def terraform_outputs():
    out = subprocess.run(["terraform", f"-chdir={ROOT / 'terraform'}", "output", "-json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"backfill: cannot read the deployment's outputs: {out.stderr.strip()}")
    outputs = {k: v["value"] for k, v in json.loads(out.stdout).items()}
    if not outputs.get("backfill"):
        sys.exit("backfill: the deployment has no backfill: set backfill = { enabled = true } and apply")
    return outputs


def job_request(backfill, account, bucket, prefix):
    reports_bucket, _, reports_prefix = backfill["reports"][5:].partition("/")
    return {
        "AccountId": account,
        "ConfirmationRequired": False,
        "Operation": backfill["job_operation"],
        "Report": backfill["job_report"],
        "ManifestGenerator": {"S3JobManifestGenerator": {
            "ExpectedBucketOwner": account,
            "SourceBucket": f"arn:aws:s3:::{bucket}",
            "EnableManifestOutput": True,
            "ManifestOutputLocation": {"ExpectedManifestBucketOwner": account,
                                       "Bucket": f"arn:aws:s3:::{reports_bucket}",
                                       "ManifestPrefix": f"{reports_prefix}manifests",
                                       "ManifestFormat": "S3InventoryReport_CSV_20211130"},
            "Filter": {"KeyNameConstraint": {"MatchAnyPrefix": [prefix]}} if prefix else {},
        }},
        "Priority": 10,
        "RoleArn": backfill["batch_operations_role_arn"],
        "ClientRequestToken": str(uuid.uuid4()),
        "Description": f"Stratus backfill of s3://{bucket}/{prefix}",
    }


def run_batch_operations(backfill, bucket, prefix, dry_run):
    import boto3
    account = boto3.client("sts").get_caller_identity()["Account"]
    request = job_request(backfill, account, bucket, prefix)
    if dry_run:
        print(json.dumps(request, indent=2))
        return
    s3control = boto3.client("s3control")
    job_id = s3control.create_job(**request)["JobId"]
    print(f"S3 Batch Operations job {job_id}", file=sys.stderr)
    while True:
        job = s3control.describe_job(AccountId=account, JobId=job_id)["Job"]
        p = job.get("ProgressSummary", {})
        total = p.get("TotalNumberOfTasks", 0)
        counts = {"succeeded": p.get("NumberOfTasksSucceeded", 0), "failed": p.get("NumberOfTasksFailed", 0)}
        progress(counts["succeeded"] + counts["failed"], total, counts)
        if job["Status"] in ("Complete", "Failed", "Cancelled"):
            break
        time.sleep(15)
    print(f"\njob {job_id}: {job['Status']}" + (f" ({job.get('FailureReasons')})" if job.get("FailureReasons") else ""))
    report_counts(boto3.client("s3"), job["Report"], job_id)


def report_counts(s3, report, job_id):
    """Tasks of the completion report by result code and what the result string says."""
    bucket = report["Bucket"].split(":::")[-1]
    key = f"{report['Prefix']}/job-{job_id}/manifest.json"
    try:
        manifest = json.load(s3.get_object(Bucket=bucket, Key=key)["Body"])
    except Exception as e:  # noqa: BLE001 - a job with no invoked task has no report
        print(f"no completion report at s3://{bucket}/{key}: {e}")
        return
    counts = collections.Counter()
    for result in manifest["Results"]:
        body = s3.get_object(Bucket=bucket, Key=result["Key"])["Body"].read().decode()
        for row in csv.reader(io.StringIO(body)):
            status, message = row[3], row[-1]
            kind = message.split(":", 1)[0] if status != "succeeded" or ":" in message[:10] else "processed"
            counts[f"{status} {kind}"] += 1
    for label, n in sorted(counts.items()):
        print(f"  {label}: {n}")


def run_distributed_map(backfill, bucket, prefix, dry_run):
    import boto3
    request = {"stateMachineArn": backfill["state_machine_arn"],
               "input": json.dumps({"bucket": bucket, "prefix": prefix})}
    if dry_run:
        print(json.dumps(request, indent=2))
        return
    sfn = boto3.client("stepfunctions")
    execution = sfn.start_execution(**request)["executionArn"]
    print(f"execution {execution}", file=sys.stderr)
    while True:
        status = sfn.describe_execution(executionArn=execution)["status"]
        runs = sfn.list_map_runs(executionArn=execution)["mapRuns"]
        if runs:
            c = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]
            progress(c["succeeded"] + c["failed"] + c["aborted"], c["total"] or 1,
                     {"succeeded": c["succeeded"], "failed": c["failed"]})
        if status != "RUNNING":
            break
        time.sleep(15)
    print(f"\nexecution: {status}; per-item results under {backfill['reports']}map/")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="s3://bucket/prefix to backfill")
    parser.add_argument("--engine", choices=ENGINES, default="batch-operations")
    parser.add_argument("--local", action="store_true", help="on moto, with the real binary (no AWS account)")
    parser.add_argument("--samples", type=int, default=20, help="--local: sample rasters to backfill")
    parser.add_argument("--batch-size", type=int, default=20, help="--local: Distributed Map items per batch")
    parser.add_argument("--runs", type=int, default=1, help="--local: times to run the backfill")
    parser.add_argument("--output", help="--local: where Items go (default s3://<bucket>/stac/)")
    parser.add_argument("--dry-run", action="store_true", help="print the engine's request, send nothing")
    args = parser.parse_args()
    bucket, prefix = split_url(args.url)
    if args.local:
        run_local(args, bucket, prefix)
        return
    backfill = terraform_outputs()["backfill"]
    if args.engine == "batch-operations":
        run_batch_operations(backfill, bucket, prefix, args.dry_run)
    else:
        run_distributed_map(backfill, bucket, prefix, args.dry_run)


if __name__ == "__main__":
    main()
