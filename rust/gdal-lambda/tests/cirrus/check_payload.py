"""Cirrus' side of gdal-lambda's Cirrus feed, judged by cirrus-geo's released
code (the environment this runs in decides which version).

    python check_payload.py validate < payload
        -> {"cirrus_geo", "id", "own_id"}: cirrus-geo's PayloadManager took the
           payload (its CirrusPayload validation raised nothing), with the id
           it kept and the one cirrus-geo derives for the same features
    python check_payload.py process < {"message": SQS message, "queue_arn": ...}
        (the message's body is a payload, or {"url": "s3://…"} naming one)
        -> {"started": [n, n], "state": ...}: cirrus-geo's process function,
           against moto (AWS_ENDPOINT_URL), given the message twice as Lambda
           hands an SQS batch to it, and the state its state database keeps

Both print one JSON line; an exception (a refused payload) exits non-zero.
"""

import hashlib
import json
import os
import sys
import uuid
from types import SimpleNamespace

from cirrus.__version__ import __version__


def validate(payload):
    from cirrus.lib.cirrus_payload import CirrusPayload
    from cirrus.lib.payload_manager import PayloadManager

    manager = PayloadManager(payload)
    bare = {k: v for k, v in payload.items() if k != "id"}
    own = CirrusPayload(bare, set_id_if_missing=True)
    return {"cirrus_geo": __version__, "id": manager.payload["id"], "own_id": own["id"]}


def sqs_record(message, queue_arn):
    """The record Lambda's SQS event source gives a function for `message`."""
    body = message["Body"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": os.environ["AWS_REGION"],
    }


def process(case):
    import boto3

    tag = uuid.uuid4().hex[:8]
    region, account = os.environ["AWS_REGION"], "123456789012"
    os.environ["CIRRUS_STATE_DB"] = f"cirrus-state-{tag}"
    os.environ["CIRRUS_PAYLOAD_BUCKET"] = f"cirrus-payloads-{tag}"
    prefix = f"cirrus-{tag}-"
    os.environ["CIRRUS_BASE_WORKFLOW_ARN"] = f"arn:aws:states:{region}:{account}:stateMachine:{prefix}"
    boto3.client("s3").create_bucket(Bucket=os.environ["CIRRUS_PAYLOAD_BUCKET"])
    # The state table's key, as cirrus-geo's StateDB addresses items.
    boto3.client("dynamodb").create_table(
        TableName=os.environ["CIRRUS_STATE_DB"],
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
    payload = json.loads(case["message"]["Body"])
    if "url" in payload:
        # A payload too large for SQS, put in S3: what the process function reads.
        bucket, _, key = payload["url"].removeprefix("s3://").partition("/")
        payload = json.load(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"])
    workflow = payload["process"][0]["workflow"]
    iam = boto3.client("iam")
    role = iam.create_role(RoleName=f"sfn-{tag}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("stepfunctions").create_state_machine(
        name=f"{prefix}{workflow}",
        definition=json.dumps({"StartAt": "done", "States": {"done": {"Type": "Succeed"}}}),
        roleArn=role,
    )

    from cirrus.lambda_functions import process as cirrus_process
    from cirrus.lib.statedb import StateDB

    event = {"Records": [sqs_record(case["message"], case["queue_arn"])]}
    context = SimpleNamespace(aws_request_id=str(uuid.uuid4()))
    started = [cirrus_process.lambda_handler(event, context) for _ in range(2)]
    item = StateDB().get_dbitem(payload["id"])
    executions = boto3.client("stepfunctions").list_executions(
        stateMachineArn=os.environ["CIRRUS_BASE_WORKFLOW_ARN"] + workflow
    )["executions"]
    return {
        "cirrus_geo": __version__,
        "started": started,
        "state": item.get("state_updated", "").split("_")[0],
        "executions": len(executions),
    }


def main():
    verb = sys.argv[1]
    document = json.load(sys.stdin)
    result = validate(document) if verb == "validate" else process(document)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
