#!/usr/bin/env bash
# Deploys the root configuration (terraform/) to moto on loopback, checks that a
# second plan has no changes, and destroys it again. The Batch task's functions live
# in moto's Lambda: the job definition must get the image of the function's runtime,
# and a function the images cannot run must stop the plan with a message.
#
# The configuration is copied to a temporary directory with override files that
# point the provider at moto (terraform/moto-overrides/*.tf): the real configuration
# and any state next to it stay untouched. moto has no container registry, so the
# first apply has pushing off and digest-pinned placeholder images. Then pushing
# is switched on with a stand-in container CLI (moto-container-cli.py) that stores
# manifests through ECR's API: the apply must pin the function and the job
# definition to the pushed digest, plan empty again, and roll a re-tagged build out.
#
# Usage: scripts/terraform/moto-roundtrip.sh      (from the repository root)
# Env:   MOTO_SERVER (default .venv/bin/moto_server); the provider mirror as scripts/terraform/env.sh finds it.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/moto.sh
source "$repo/scripts/lib/moto.sh"
# shellcheck source=scripts/terraform/env.sh
source "$repo/scripts/terraform/env.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/stratus-tf-moto.XXXXXX")"

cleanup() {
  local rc=$?
  moto_stop
  if [[ $rc -ne 0 && -f "$work/moto.log" ]]; then
    echo "--- last lines of the moto log ---" >&2
    tail -n 30 "$work/moto.log" >&2 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT INT TERM

step() { printf '\n==> %s\n' "$*"; }

# --- moto on a free loopback port -------------------------------------------
step "starting moto"
# AWS managed policies (AmazonECSTaskExecutionRolePolicy, …) exist in moto only when asked for.
moto_start "$work/moto.log" MOTO_IAM_LOAD_MANAGED_POLICIES=true
endpoint=$MOTO_ENDPOINT
echo "moto on ${endpoint}"
# Without Docker, Lambda invocations echo their input and Batch jobs succeed at once.
curl -fsS -o /dev/null --max-time 5 -H 'Content-Type: application/json' \
  -d '{"lambda":{"use_docker":false},"batch":{"use_docker":false}}' "${endpoint}/moto-api/config" \
  || { echo "could not configure moto at ${endpoint}" >&2; exit 1; }

# --- a copy of the configuration, pointed at moto ---------------------------
mkdir -p "$work/tf"
cp "$repo"/terraform/*.tf "$work/tf/"
cp -r "$repo/terraform/modules" "$work/tf/modules"
rm -rf "$work"/tf/modules/*/.terraform "$work"/tf/modules/*/.terraform.lock.hcl
for f in "$repo"/terraform/moto-overrides/*.tf; do
  # <dir>__<name>_override.tf goes to modules/<dir>/<name>_override.tf; the rest to the root.
  base="$(basename "$f")"
  if [[ "$base" == *__* ]]; then
    cp "$f" "$work/tf/modules/${base%%__*}/${base#*__}"
  else
    cp "$f" "$work/tf/$base"
  fi
done
sed -i "s#http://127.0.0.1:MOTO_PORT#${endpoint}#g" "$work/tf/moto_override.tf"

digest() { printf 'sha256:%s' "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"; }
registry="123456789012.dkr.ecr.us-east-1.amazonaws.com"
cat >"$work/tf/moto.tfvars.json" <<JSON
{
  "push_images": false,
  "force_destroy": true,
  "gdal_lambda": { "trigger": "sqs" },
  "backfill": { "enabled": true, "reserved_concurrency": 7, "state_machine": { "items_per_batch": 25 } },
  "batch_task_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:stratus-task",
  "images": {
    "gdal_lambda": "${registry}/stratus/gdal-lambda@$(digest gdal-lambda)",
    "run_lambda/python3.13": "${registry}/stratus/run-lambda@$(digest run-lambda-python3.13)",
    "run_geolambda/python3.11": "${registry}/stratus/run-geolambda@$(digest run-geolambda-python3.11)",
    "run_geolambda/python3.13": "${registry}/stratus/run-geolambda@$(digest run-geolambda-python3.13)"
  }
}
JSON

# The Batch task's function, which the job definition reads for its runtime: a python3.13
# function gets run-geolambda's python3.13 image. Two more that it must refuse: a runtime
# with no image, and another architecture than the images'.
step "task functions in moto's Lambda"
"$repo/.venv/bin/python" - <<'PY'
import io, zipfile, boto3
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("task.py", "def handler(event, context):\n    return event\n")
role = boto3.client("iam").create_role(RoleName="stratus-task", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
for name, runtime, arch in [("stratus-task", "python3.13", "arm64"),
                            ("stratus-task-py312", "python3.12", "arm64"),
                            ("stratus-task-x86", "python3.13", "x86_64")]:
    boto3.client("lambda").create_function(FunctionName=name, Runtime=runtime, Role=role,
                                           Handler="task.handler", Code={"ZipFile": buf.getvalue()},
                                           Architectures=[arch])
    print(f"{name}: {runtime}, {arch}")
PY

export TF_IN_AUTOMATION=1 TF_INPUT=0
tf() { terraform -chdir="$work/tf" "$@"; }

step "terraform init"
tf init -backend=false -input=false -no-color >/dev/null

# The plan must stop at the job definition, with a message naming what is missing.
expect_refusal() { # function-name expected-message
  if tf plan -no-color -var-file=moto.tfvars.json \
    -var "batch_task_function_arn=arn:aws:lambda:us-east-1:123456789012:function:$1" >"$work/refusal.log" 2>&1; then
    echo "the plan accepted $1" >&2; return 1
  fi
  # (Terraform wraps long messages.)
  if ! tr -s ' \n' ' ' <"$work/refusal.log" | grep -qF "$2"; then
    cat "$work/refusal.log"; echo "the plan refused $1 without saying: $2" >&2; return 1
  fi
  echo "$1 refused: $2"
}
step "a function the images cannot run is refused at plan"
expect_refusal stratus-task-py312 \
  "stratus-task-py312 runs on python3.12, but image_uris has images for python3.11, python3.13 only: build the python3.12 image (\`just build\` builds every runtime of images/runtimes)"
expect_refusal stratus-task-x86 \
  "stratus-task-x86 is built for x86_64, but the job runs arm64 images (cpu_architecture ARM64)"

start=$SECONDS
step "terraform apply"
tf apply -auto-approve -no-color -var-file=moto.tfvars.json >"$work/apply.log" 2>&1 || { cat "$work/apply.log"; exit 1; }
grep -E '^Apply complete' "$work/apply.log"
echo "apply took $((SECONDS - start)) s"
chosen="$(tf output -json batch_task)"
grep -q '"runtime":"python3.13"' <<<"$chosen" && grep -q "run-geolambda@$(digest run-geolambda-python3.13)" <<<"$chosen" \
  || { echo "the job definition must run run-geolambda's python3.13 image for the python3.13 function: $chosen" >&2; exit 1; }
echo "the job definition runs the image of the function's runtime: $chosen"

step "the upload path as deployed: S3 -> SQS (dead-letter queue) -> gdal-lambda, failures per message"
"$repo/.venv/bin/python" - "$(tf output -raw raster_bucket)" "$(tf output -raw gdal_lambda_function_name)" <<'PY'
import json, sys, boto3
bucket, function = sys.argv[1:]
s3, sqs, lam = boto3.client("s3"), boto3.client("sqs"), boto3.client("lambda")
queues = [c["QueueArn"] for c in s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations", [])]
# (moto filters mappings by function ARN only)
arn = lam.get_function_configuration(FunctionName=function)["FunctionArn"]
mappings = lam.list_event_source_mappings(FunctionName=arn)["EventSourceMappings"]
env = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
url = sqs.get_queue_url(QueueName=f"{function}-uploads")["QueueUrl"]
attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
redrive = json.loads(attrs["RedrivePolicy"])
problems = []
if not queues or set(queues) != {attrs["QueueArn"]}:
    problems.append(f"the bucket notifies {queues}, not the upload queue")
if [(m["EventSourceArn"], m.get("FunctionResponseTypes")) for m in mappings] != [(attrs["QueueArn"], ["ReportBatchItemFailures"])]:
    problems.append(f"event source mappings: {mappings}")
if env.get("REPORT_BATCH_ITEM_FAILURES") != "true":
    problems.append(f"the function is not told it reports batch item failures: {env}")
if not redrive["deadLetterTargetArn"].endswith(f"{function}-uploads-dlq"):
    problems.append(f"redrive policy: {redrive}")
if problems:
    sys.exit("\n".join(problems))
print(f"{bucket} -> {attrs['QueueArn'].split(':')[-1]} (dead letters after {redrive['maxReceiveCount']}) -> {function}, ReportBatchItemFailures")
PY

step "the backfill as deployed: a capped, published function and the S3 Batch Operations job role"
# (moto has no ValidateStateMachineDefinition, which the provider calls before creating the
# state machine: moto-overrides/backfill__moto_override.tf leaves it out, terraform test covers it.)
"$repo/.venv/bin/python" - "$(tf output -json backfill)" <<'PY'
import json, sys, boto3
out = json.loads(sys.argv[1])
lam, iam = boto3.client("lambda"), boto3.client("iam")
problems = []
fn = lam.get_function(FunctionName=out["function_name"])
if fn.get("Concurrency", {}).get("ReservedConcurrentExecutions") != 7:
    problems.append(f"reserved concurrency: {fn.get('Concurrency')}")
version = out["function_qualified_arn"].rsplit(":", 1)[-1]
if not version.isdigit() or version not in [v["Version"] for v in lam.list_versions_by_function(FunctionName=out["function_name"])["Versions"]]:
    problems.append(f"jobs must invoke a published version, not {out['function_qualified_arn']}")
role = iam.get_role(RoleName=out["batch_operations_role_arn"].rsplit("/", 1)[-1])["Role"]
trust = role["AssumeRolePolicyDocument"]
trust = json.loads(trust) if isinstance(trust, str) else trust
if [s["Principal"]["Service"] for s in trust["Statement"]] != ["batchoperations.s3.amazonaws.com"]:
    problems.append(f"job role trust: {trust}")
policy = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="backfill")["PolicyDocument"]
policy = json.loads(policy) if isinstance(policy, str) else policy
invoke = [s for s in policy["Statement"] if s["Sid"] == "InvokePublishedFunction"]
if not invoke or invoke[0]["Resource"] != out["function_qualified_arn"]:
    problems.append(f"the job role must invoke the published version only: {invoke}")
if out["job_operation"]["LambdaInvoke"] != {"FunctionArn": out["function_qualified_arn"], "InvocationSchemaVersion": "2.0"}:
    problems.append(f"job operation: {out['job_operation']}")
if problems:
    sys.exit("\n".join(problems))
print(f"{out['function_name']}: reserved concurrency 7, version {version} invoked by the job role "
      f"({role['RoleName']}); reports to {out['reports']}")
PY

step "terraform plan (expecting no changes)"
set +e
tf plan -detailed-exitcode -no-color -var-file=moto.tfvars.json >"$work/plan.log" 2>&1
plan_rc=$?
set -e
expect_no_changes() {
  case "$1" in
    0) echo "No changes." ;;
    2)
      cat "$work/plan.log"
      echo "the plan after apply has changes: the configuration does not converge" >&2
      failed=1
      ;;
    *) cat "$work/plan.log"; failed=1 ;;
  esac
}
failed=""
expect_no_changes "$plan_rc"
var_files=(-var-file=moto.tfvars.json)

if [[ -z "$failed" ]]; then
  # --- pushing on: a stand-in CLI "pushes" into moto's ECR --------------------
  python="$repo/.venv/bin/python"
  cat >"$work/container-cli" <<CLI
#!/usr/bin/env bash
exec "$python" "$repo/scripts/terraform/moto-container-cli.py" "\$@"
CLI
  chmod +x "$work/container-cli"
  # push.sh keeps its login markers under TMPDIR: this run's own, so earlier runs do not count.
  export STRATUS_MOTO_ENDPOINT="$endpoint" STRATUS_MOTO_TAGS="$work/tags.jsonl" STRATUS_MOTO_LOGINS="$work/logins" \
    TMPDIR="$work/tmp"
  mkdir -p "$TMPDIR"
  push_vars() {
    cat >"$work/tf/push.tfvars.json" <<JSON
{
  "push_images": true,
  "container_cli": "$work/container-cli",
  "images": {
    "gdal_lambda": "stratus/gdal-lambda:$1",
    "run_lambda/python3.13": "stratus/run-lambda:$1-python3.13",
    "run_geolambda/python3.11": "stratus/run-geolambda:$1-python3.11",
    "run_geolambda/python3.13": "stratus/run-geolambda:$1-python3.13"
  }
}
JSON
  }
  # The digest moto holds for a tag, and what the function and job definition run.
  registry_digest() {
    "$python" - "$endpoint" "$1" "$2" <<'PY'
import sys, boto3
ecr = boto3.client("ecr", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
print(ecr.describe_images(repositoryName=sys.argv[2], imageIds=[{"imageTag": sys.argv[3]}])["imageDetails"][0]["imageDigest"])
PY
  }
  check_pinned() {
    local tag=$1 digest uris
    uris="$(tf output -json image_uris)"
    for image in gdal-lambda:$tag run-lambda:$tag-python3.13 run-geolambda:$tag-python3.11 run-geolambda:$tag-python3.13; do
      digest="$(registry_digest "stratus/${image%%:*}" "${image#*:}")"
      if ! grep -q "stratus/${image%%:*}@$digest" <<<"$uris"; then
        echo "stratus/$image is $digest in the registry, but deployed: $uris" >&2
        return 1
      fi
    done
    # (Into files, not pipes: grep -q would end the pipe early, and pipefail fail it.)
    tf state show -no-color module.gdal_lambda.aws_lambda_function.this >"$work/function.txt"
    grep -qE "^ +image_uri += \"[^\"]*@$(registry_digest stratus/gdal-lambda "$tag")\"" "$work/function.txt" ||
      { cat "$work/function.txt"; echo "the function does not run the digest pushed as $tag" >&2; return 1; }
    tf state show -no-color 'module.batch_task[0].aws_batch_job_definition.this' >"$work/jobdef.txt"
    grep -q "stratus/run-geolambda@$(registry_digest stratus/run-geolambda "$tag-python3.13")" "$work/jobdef.txt" ||
      { cat "$work/jobdef.txt"; echo "the job definition does not run the digest pushed as $tag" >&2; return 1; }
    echo "function and job definition run the digests pushed as $tag"
    # Every tag pushed, every runtime's, is kept by its repository's lifecycle policy.
    "$python" - "$endpoint" "$work/tf/push.tfvars.json" <<'PY' || return 1
import json, sys, boto3
ecr = boto3.client("ecr", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
pushed = {}
for image in json.load(open(sys.argv[2]))["images"].values():
    name, tag = image.rsplit(":", 1)
    pushed.setdefault(name, set()).add(tag)
for name, tags in sorted(pushed.items()):
    rules = json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])["rules"]
    # The rules naming a tag (the last tagged rule's "*" expires the rest).
    kept = {p for r in rules for p in r["selection"].get("tagPatternList", []) if p != "*"}
    if kept != tags:
        sys.exit(f"{name}'s lifecycle policy keeps {sorted(kept)}, but the deployment pins {sorted(tags)}")
    print(f"{name} keeps {', '.join(sorted(tags))}")
PY
  }

  var_files=(-var-file=moto.tfvars.json -var-file=push.tfvars.json)
  for tag in 0.1.0-moto1 0.1.0-moto2; do
    step "terraform apply with pushing on, images tagged $tag"
    push_vars "$tag"
    : >"$work/logins"
    tf apply -auto-approve -no-color "${var_files[@]}" >"$work/apply.log" 2>&1 || { cat "$work/apply.log"; failed=1; break; }
    grep -E '^Apply complete' "$work/apply.log"
    # Four images, one registry, one token per apply: one login (none when moto hands out the
    # token the last apply already logged in with).
    logins=$(wc -l <"$work/logins" | tr -d ' ')
    if [[ $logins -gt 1 || ($tag == 0.1.0-moto1 && $logins != 1) ]]; then
      echo "the apply logged in $logins times for 4 images in one registry" >&2; failed=1; break
    fi
    echo "4 images pushed with $logins login(s)"
    check_pinned "$tag" || { failed=1; break; }
    step "terraform plan (expecting no changes)"
    set +e
    tf plan -detailed-exitcode -no-color "${var_files[@]}" >"$work/plan.log" 2>&1
    plan_rc=$?
    set -e
    expect_no_changes "$plan_rc"
    [[ -z "$failed" ]] || break
  done
fi

if [[ -z "$failed" ]]; then
  # Repositories that hold images: without force_delete_images (or force_destroy) the destroy
  # stops before deleting anything, saying what to set.
  step "terraform destroy without force_delete_images: stops first, with one message"
  tf apply -auto-approve -no-color "${var_files[@]}" -var force_destroy=false >"$work/apply.log" 2>&1 || { cat "$work/apply.log"; exit 1; }
  # (The image task of moto_image_task.tf is this round trip's own addition, which the guard
  # does not wait for: it is left out of the comparison.)
  stack_state() { tf state list | grep -v -e '^module\.image_task\.' -e '^terraform_data\.image_task_checked$'; }
  stack_state >"$work/state-before.txt"
  if tf destroy -auto-approve -no-color "${var_files[@]}" -var force_destroy=false >"$work/guard.log" 2>&1; then
    cat "$work/guard.log"; echo "the destroy deleted repositories holding images without force_delete_images" >&2; failed=1
  elif ! tr -s ' \n' ' ' <"$work/guard.log" | grep -qF 'hold the images this stack runs, and ECR deletes only empty repositories: nothing was destroyed. To delete the repositories with their images, run `terraform apply -var force_delete_images=true`'; then
    cat "$work/guard.log"; echo "the destroy failed without saying which variable to set" >&2; failed=1
  elif ! stack_state | cmp -s - "$work/state-before.txt"; then
    stack_state | diff "$work/state-before.txt" - || true; echo "the refused destroy deleted part of the stack" >&2; failed=1
  else
    echo "stopped with nothing deleted: $(grep -o 'The ECR repositories [^:]*' "$work/guard.log" | head -n1)"
  fi
  # Back to the round trip's settings (force_destroy), which the final destroy runs with.
  tf apply -auto-approve -no-color "${var_files[@]}" >"$work/apply.log" 2>&1 || { cat "$work/apply.log"; exit 1; }
fi

start=$SECONDS
step "terraform destroy"
tf destroy -auto-approve -no-color "${var_files[@]}" >"$work/destroy.log" 2>&1 || { cat "$work/destroy.log"; exit 1; }
grep -E '^Destroy complete' "$work/destroy.log"
echo "destroy took $((SECONDS - start)) s"

if [[ -n "$failed" ]]; then exit 1; fi
step "moto round trip passed: apply, empty plan, push and pin, re-tag and roll out, destroy"
