"""Checks the plan filmdrop-one-apply.sh made (`terraform show -json`): filmdrop's modules plan the
task from the example's definitions, which are known, while what a first apply creates is not.

Usage: filmdrop-plan-check.py PLAN.json LOCAL_IMAGE
"""

import json
import sys

plan = json.load(open(sys.argv[1]))
image_tag = sys.argv[2].rsplit(":", 1)[1]
changes = {c["address"]: c for c in plan["resource_changes"]}
problems = []

task = 'module.cirrus.module.task["geo-task"]'
compute = 'module.cirrus.module.task_batch_compute["stratus-arm64"]'
image = "module.stratus.module.run_geolambda_image"
created = {
    "module.stratus.module.run_geolambda_repository.aws_ecr_repository.this": "the run-geolambda repository",
    f"{image}.terraform_data.push": "the push of the image",
    f"{compute}.aws_batch_compute_environment.task_batch[0]": "filmdrop's Fargate compute environment",
    f"{compute}.aws_batch_job_queue.task_batch[0]": "filmdrop's job queue",
    f"{compute}.aws_iam_role.task_ecs[0]": "filmdrop's ECS task execution role",
    f"{task}.aws_lambda_function.task[0]": "the task function",
    f"{task}.aws_iam_role.task_batch[0]": "the job role",
    f"{task}.aws_batch_job_definition.task[0]": "the job definition",
}
for address, what in created.items():
    actions = changes.get(address, {}).get("change", {}).get("actions")
    if actions != ["create"]:
        problems.append(f"{what} ({address}) is not created: {actions}")

# What a first apply only learns as it goes: each must be unknown in this plan, or the test
# would not be planning a first apply.
unknown = [
    ("module.stratus.module.run_geolambda_repository.aws_ecr_repository.this", "repository_url"),
    (f"{compute}.aws_batch_compute_environment.task_batch[0]", "arn"),
    (f"{compute}.aws_iam_role.task_ecs[0]", "arn"),
    (f"{task}.aws_iam_role.task_batch[0]", "arn"),
    ("module.cirrus.aws_s3_bucket.payload", "id"),
    ("module.cirrus.aws_sqs_queue.process", "url"),
    ("aws_subnet.private", "id"),
    ("aws_security_group.tasks", "id"),
    (f"{task}.aws_batch_job_definition.task[0]", "container_properties"),
]
for address, attribute in unknown:
    if not changes.get(address, {}).get("change", {}).get("after_unknown", {}).get(attribute):
        problems.append(f"{address}.{attribute} is known at plan time: this is no first apply")
# The digest exists only once the image is pushed: its lookup is deferred to the apply.
digest = changes.get(f"{image}.data.aws_ecr_image.this", {}).get("change", {})
if digest.get("actions") != ["read"] or not digest.get("after_unknown", {}).get("image_digest"):
    problems.append(f"the pushed image's digest is not looked up at apply time: {digest.get('actions')}")

# What the definitions gave filmdrop, as planned.
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cirrus-dev/run-geolambda"
function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cirrus-dev-geo-task"
expected = {
    f"{task}.aws_batch_job_definition.task[0]": {
        "name": "cirrus-dev-geo-task",
        "parameters": {"lambda_function": function_arn, "url": "filler", "url_out": "filler"},
        "platform_capabilities": ["FARGATE"],
    },
    f"{task}.aws_lambda_function.task[0]": {
        "function_name": "cirrus-dev-geo-task",
        "runtime": "python3.13",
        "architectures": ["arm64"],
        "s3_bucket": "cirrus-dev-code",
        "s3_key": "tasks/geo-task.zip",
    },
}
for address, values in expected.items():
    after = changes.get(address, {}).get("change", {}).get("after") or {}
    for key, value in values.items():
        if after.get(key) != value:
            problems.append(f"{address}.{key} is {after.get(key)!r}, expected {value!r}")
resources = (changes.get(f"{compute}.aws_batch_compute_environment.task_batch[0]", {}).get("change", {}).get("after") or {}).get("compute_resources") or [{}]
if (resources[0].get("type"), resources[0].get("max_vcpus")) != ("FARGATE", 16):
    problems.append(f"the compute environment is not Fargate with 16 vCPUs: {resources}")

config = plan.get("planned_values", {}).get("outputs", {}).get("task_config", {}).get("value")
if not config:
    problems.append("the rendered task definition is not known at plan time")
else:
    planned_image = json.loads(config["batch"]["container_properties"])["image"]
    if planned_image != f"{repository}:{image_tag}":
        problems.append(f"the job would run {planned_image}, not {repository}:{image_tag}")
    statements = {s["sid"]: s["resources"] for s in config["common_role_statements"]}
    if statements.get("WriteCirrusData") != ["arn:aws:s3:::cirrus-dev-data-123456789012/*"]:
        problems.append(f"the task does not write to the deployment's data bucket: {statements}")

if problems:
    sys.exit("\n".join(problems))
print(f"filmdrop plans {len(created)} resources of the task from the example's definitions: "
      f"task geo-task, compute stratus-arm64, image {repository}:{image_tag}")
print("unknown at plan time, as on a first apply: "
      + ", ".join(f"{a}.{k}" for a, k in unknown)
      + ", the pushed image's digest")
