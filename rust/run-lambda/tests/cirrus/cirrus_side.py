"""Cirrus' side of a Batch task, done by cirrus-geo's own released code against
moto (AWS_ENDPOINT_URL): its pre-batch, post-batch and update-state functions
and its state database. The Rust test runs run-lambda between them, as the
Batch job does.

    python cirrus_side.py pre-batch   < {"payload": {...}}
        -> {"url", "url_out"}: where pre-batch put the payload for the job
    python cirrus_side.py post-batch  < {"payload", "url", "url_out", "function",
                                         "exit_code", "log", "multi_container"?}
        -> {"post_batch": {"payload"} or {"error_type", "message"},
            "state": what update-state recorded, "last_error": ...}

post-batch gets what Step Functions hands it after `SubmitJob.sync`: the job
description on success, the caught error whose Cause names the job's log
stream on failure; for a failure the job's log (run-lambda's stdout and stderr
in order, one event per line, as the awslogs driver sends them) is first put
into that stream of `/aws/batch/job`. update-state then gets the EventBridge
event of the workflow's end: SUCCEEDED with post-batch's payload as output, or
FAILED with post-batch's exception as the error, as a Lambda task's error
reaches a Fail state (`Error` the type, `Cause` the runtime's error JSON).
"""

import json
import os
import sys
import time
import uuid
from types import SimpleNamespace

import boto3

PAYLOAD_BUCKET = os.environ["CIRRUS_PAYLOAD_BUCKET"]
STATE_TABLE = os.environ["CIRRUS_STATE_DB"]
CONTEXT = SimpleNamespace(aws_request_id=str(uuid.uuid4()))


def ensure_resources():
    s3 = boto3.client("s3")
    if PAYLOAD_BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=PAYLOAD_BUCKET)
    dynamodb = boto3.client("dynamodb")
    if STATE_TABLE not in dynamodb.list_tables()["TableNames"]:
        # The state table's key, as cirrus-geo's StateDB addresses items.
        dynamodb.create_table(
            TableName=STATE_TABLE,
            KeySchema=[
                {"AttributeName": "collections_workflow", "KeyType": "HASH"},
                {"AttributeName": "itemids", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "collections_workflow", "AttributeType": "S"},
                {"AttributeName": "itemids", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )


def pre_batch(case):
    from cirrus.lambda_functions import pre_batch

    ensure_resources()
    return pre_batch.lambda_handler(case["payload"], CONTEXT)


def put_job_log(log):
    """The job's log stream in Batch's default group, named as Batch names them."""
    logs = boto3.client("logs")
    group = "/aws/batch/job"
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
    stream = f"geo-task/default/{uuid.uuid4().hex}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [
        {"timestamp": now, "message": line}
        for line in log.splitlines()
        if line.strip()
    ]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    return stream


def job_description(case, status, stream=None):
    parameters = {
        "lambda_function": case["function"],
        "url": case["url"],
        "url_out": case["url_out"],
    }
    job = {
        "JobName": "geo-task",
        "JobId": str(uuid.uuid4()),
        "Status": status,
        "Parameters": parameters,
    }
    if stream and case.get("multi_container"):
        # A multi-container job (ecsProperties: a container-image function's, run-lambda serving
        # the function's image): Batch lists each container of the attempt, with its own log
        # stream, under TaskProperties; there is no attempt Container.
        job["Attempts"] = [
            {
                "TaskProperties": [
                    {
                        "Containers": [
                            {"Name": "run-lambda", "ExitCode": case["exit_code"], "LogStreamName": stream},
                            {"Name": "function", "ExitCode": 137, "LogStreamName": f"{stream}-function"},
                        ]
                    }
                ],
                "StatusReason": "Essential container in task exited",
            }
        ]
    elif stream:
        job["Attempts"] = [
            {
                "Container": {
                    "ExitCode": case["exit_code"],
                    "LogStreamName": stream,
                },
                "StatusReason": "Essential container in task exited",
            }
        ]
    return job


def post_batch(case):
    from cirrus.lambda_functions import post_batch

    if case["exit_code"] == 0:
        payload = post_batch.lambda_handler(job_description(case, "SUCCEEDED"), CONTEXT)
        return {"payload": payload}, None
    stream = put_job_log(case["log"])
    cause = json.dumps(job_description(case, "FAILED", stream))
    try:
        post_batch.lambda_handler(
            {"error": {"Error": "States.TaskFailed", "Cause": cause}}, CONTEXT
        )
    except Exception as e:
        # What the Python runtime reports for it, and Step Functions' Error then is.
        error_type = type(e).__name__
        error = {
            "Error": error_type,
            "Cause": json.dumps({"errorType": error_type, "errorMessage": str(e)}),
        }
        return {"error_type": error_type, "message": str(e)}, error
    raise AssertionError("post-batch did not raise for a failed job")


def update_state(case, output, error):
    from cirrus.lambda_functions import update_state
    from cirrus.lib.statedb import StateDB

    execution = f"exec-{uuid.uuid4().hex}"
    detail = {
        "executionArn": f"arn:aws:states:us-east-1:123456789012:execution:geo:{execution}",
        "name": execution,
        "status": "FAILED" if error else "SUCCEEDED",
        "input": json.dumps(case["payload"]),
        "inputDetails": {"included": True},
    }
    if error:
        detail["error"] = error["Error"]
        detail["cause"] = error["Cause"]
    else:
        detail["output"] = json.dumps(output)
        detail["outputDetails"] = {"included": True}
    update_state.lambda_handler({"detail": detail}, CONTEXT)
    payload_id = case["payload"]["id"]
    item = StateDB().get_dbitem(payload_id)
    return {
        "state": StateDB().get_state(payload_id).value,
        "last_error": item.get("last_error"),
    }


def main():
    command = sys.argv[1]
    case = json.load(sys.stdin)
    if command == "pre-batch":
        result = pre_batch(case)
    elif command == "post-batch":
        outcome, error = post_batch(case)
        result = {"post_batch": outcome, **update_state(case, outcome.get("payload"), error)}
    else:
        raise SystemExit(f"unknown command {command}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
