#!/usr/bin/env bash
# Plans the cirrus-task example and filmdrop's real Cirrus `task` and `task-batch-compute`
# modules in ONE configuration, on an empty moto account: the plan of a first apply, where
# nothing the apply creates has an id, an ARN, a generated name or a digest yet. filmdrop
# renders each definition with templatefile() and keys its modules by the rendered names,
# so the plan only succeeds if every value the example feeds the definitions is known then.
# A second plan feeds the image by the digest the push yields instead, and must fail with
# filmdrop's "Invalid for_each argument": the test sees what stops a first apply.
#
# filmdrop's modules are not in this repository. STRATUS_FILMDROP_MODULES names a git
# clone (bare is fine) of https://github.com/Element84/filmdrop-aws-tf-modules holding the
# commit pinned below; its task, task-batch-compute and typed-definitions modules are
# extracted at that commit into the test's work directory. Without it the test is skipped
# (CI has no access to GitHub), saying how to run it:
#
#   git clone https://github.com/Element84/filmdrop-aws-tf-modules /tmp/filmdrop
#   STRATUS_FILMDROP_MODULES=/tmp/filmdrop just test-terraform-filmdrop
#
# filmdrop's modules at that commit need Terraform >= 1.13 and the AWS provider 6. Only
# where the Terraform or provider at hand is older are they patched (in the copy), each
# patch printed, and each must match exactly what is listed below (a changed upstream fails):
#   Terraform < 1.13:  providers.tf of the three modules, `required_version = ">= 1.13.0"`.
#   provider 5.x:      providers.tf of the three modules, `version = "~> 6.0"`;
#                      task/data.tf and task-batch-compute/main.tf, `data.aws_region.current.region`
#                      (provider 5 calls it `name`);
#                      task-batch-compute/main.tf, the compute environment data source's `name`
#                      and the resource's `name_prefix` (provider 5: `compute_environment_name`,
#                      `compute_environment_name_prefix`).
#
# Usage: scripts/terraform/filmdrop-one-apply.sh      (from the repository root)
# Env:   STRATUS_FILMDROP_MODULES (above); MOTO_SERVER; the provider mirror as env.sh finds it.
set -euo pipefail

# filmdrop-aws-tf-modules: "updates for cirrus v2 compatibility (#253)", 2026-05-11 (v3.0.1 + 2).
filmdrop_commit=1c76f30654052f74e3f85558c588b22616650cd9
filmdrop_modules=(task task-batch-compute typed-definitions)

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src=${STRATUS_FILMDROP_MODULES:-}
if [[ -z $src ]]; then
  echo "filmdrop plan: skipped, STRATUS_FILMDROP_MODULES is not set. To run it:"
  echo "  git clone https://github.com/Element84/filmdrop-aws-tf-modules /tmp/filmdrop"
  echo "  STRATUS_FILMDROP_MODULES=/tmp/filmdrop just test-terraform-filmdrop"
  exit 0
fi
if ! git -C "$src" cat-file -e "$filmdrop_commit^{commit}" 2>/dev/null; then
  echo "filmdrop plan: $src is no git clone holding filmdrop-aws-tf-modules $filmdrop_commit (git -C $src fetch origin)" >&2
  exit 1
fi

# shellcheck source=scripts/lib/moto.sh
source "$repo/scripts/lib/moto.sh"
# shellcheck source=scripts/terraform/env.sh
source "$repo/scripts/terraform/env.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/stratus-tf-filmdrop.XXXXXX")"
cleanup() {
  local rc=$?
  moto_stop
  [[ $rc -ne 0 && -f "$work/moto.log" ]] && { echo "--- last lines of the moto log ---" >&2; tail -n 20 "$work/moto.log" >&2; }
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT INT TERM
step() { printf '\n==> %s\n' "$*"; }

# --- the configuration: ours, filmdrop's modules, the definitions -------------
step "filmdrop-aws-tf-modules $filmdrop_commit"
root="$work/tf"
mkdir -p "$root/stratus/terraform/examples" "$root/definitions/tasks/geo-task" "$root/definitions/task-batch-compute/stratus-compute"
cp -r "$repo/scripts/terraform/filmdrop/." "$root/"
cp -r "$repo/terraform/modules" "$root/stratus/terraform/modules"
cp -r "$repo/terraform/examples/cirrus-task" "$root/stratus/terraform/examples/cirrus-task"
rm -rf "$root"/stratus/terraform/*/*/.terraform "$root"/stratus/terraform/*/*/.terraform.lock.hcl
cp "$repo/terraform/examples/cirrus-task/definition.yaml" "$root/definitions/tasks/geo-task/"
cp "$repo/terraform/examples/cirrus-task/compute-definition.yaml" "$root/definitions/task-batch-compute/stratus-compute/definition.yaml"
git -C "$src" archive "$filmdrop_commit" "${filmdrop_modules[@]/#/modules/cirrus/}" | tar -x -C "$work"
for m in "${filmdrop_modules[@]}"; do mv "$work/modules/cirrus/$m" "$root/cirrus/$m"; done

# Which Terraform and provider will run them: the mirror's newest AWS provider when there is
# a mirror, else the registry's (6.x or later, which needs no patch).
tf_version=$(terraform version -json | python3 -c 'import json, sys; print(json.load(sys.stdin)["terraform_version"])')
aws_version=""
if [[ ${TF_CLI_CONFIG_FILE:-} == "${stratus_tf_rc:-}" && -d "$stratus_tf_mirror/registry.terraform.io/hashicorp/aws" ]]; then
  aws_version=$(find "$stratus_tf_mirror/registry.terraform.io/hashicorp/aws" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)
fi
echo "Terraform $tf_version, hashicorp/aws ${aws_version:-from the registry}"
python3 - "$root/cirrus" "$tf_version" "$aws_version" <<'PY'
import sys
from pathlib import Path

base, tf, aws = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
older = lambda v, major, minor: tuple(int(x) for x in v.split(".")[:2]) < (major, minor)
patches = []  # (file, old, new, expected count)
if older(tf, 1, 13):
    for m in ("task", "task-batch-compute", "typed-definitions"):
        patches.append((f"{m}/providers.tf", 'required_version = ">= 1.13.0"', 'required_version = ">= 1.9.0"', 1))
if aws and older(aws, 6, 0):
    for m in ("task", "task-batch-compute", "typed-definitions"):
        patches.append((f"{m}/providers.tf", 'version = "~> 6.0"', 'version = ">= 5.100"', 1))
    patches += [
        ("task/data.tf", "data.aws_region.current.region", "data.aws_region.current.name", 1),
        ("task-batch-compute/main.tf", "data.aws_region.current.region", "data.aws_region.current.name", 1),
        ("task-batch-compute/main.tf", "  name = var.batch_compute_config.batch_compute_environment_existing.name",
         "  compute_environment_name = var.batch_compute_config.batch_compute_environment_existing.name", 1),
        ("task-batch-compute/main.tf", '  name_prefix  = "${var.resource_prefix}-task-compute-',
         '  compute_environment_name_prefix = "${var.resource_prefix}-task-compute-', 1),
    ]
for name, old, new, count in patches:
    path = base / name
    text = path.read_text()
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if old in line]
    if len(lines) != count:
        sys.exit(f"patch: {name} has {len(lines)} lines with {old!r}, expected {count}: filmdrop changed, review the patch list")
    path.write_text(text.replace(old, new))
    print(f"patched {name}:{','.join(map(str, lines))}: {old.strip()}  ->  {new.strip()}")
if not patches:
    print("no patches: this Terraform and provider are what filmdrop asks for")
PY

# --- moto, empty: the account of a first apply ------------------------------
step "starting moto"
moto_start "$work/moto.log" MOTO_IAM_LOAD_MANAGED_POLICIES=true
# The provider the moto round trip uses (terraform/moto-overrides), pointed at this moto.
sed -n '/^provider "aws"/,/^}/p' "$repo/terraform/moto-overrides/moto_override.tf" \
  | sed "s|http://127.0.0.1:MOTO_PORT|$MOTO_ENDPOINT|" >"$root/provider.tf"

tf() { terraform -chdir="$root" "$@"; }
step "terraform init"
tf init -backend=false -input=false -no-color >"$work/init.log" 2>&1 || { cat "$work/init.log"; exit 1; }

# What `just build` hands over, in its format (another name: a root's *.auto.tfvars.json
# would be read as variables).
image=stratus/run-geolambda:0.1.0-3f2c1ab0-arm64-python3.13
cat >"$root/stratus-images.json" <<JSON
{
  "images": {
    "gdal_lambda": "stratus/gdal-lambda:0.1.0-3f2c1ab0-arm64",
    "run_geolambda/python3.13": "$image"
  },
  "image_architecture": "arm64"
}
JSON

# moto has ECR's API but no registry: a stand-in CLI "pushes" the image through it.
python="$repo/.venv/bin/python"
printf '#!/usr/bin/env bash\nexec "%s" "%s" "$@"\n' "$python" "$repo/scripts/terraform/moto-container-cli.py" >"$work/container-cli"
chmod +x "$work/container-cli"
export STRATUS_MOTO_ENDPOINT=$MOTO_ENDPOINT STRATUS_MOTO_TAGS=$work/tags.jsonl
vars=(-var images_file=stratus-images.json -var "container_cli=$work/container-cli")

step "terraform plan: one configuration, nothing created yet"
start=$SECONDS
tf plan -no-color -input=false -out="$work/plan" "${vars[@]}" >"$work/plan.log" 2>&1 \
  || { cat "$work/plan.log"; echo "filmdrop's modules did not plan with the example in one configuration" >&2; exit 1; }
echo "planned in $((SECONDS - start)) s: $(grep -E '^Plan:' "$work/plan.log")"
tf show -json "$work/plan" >"$work/plan.json"
python3 "$repo/scripts/terraform/filmdrop-plan-check.py" "$work/plan.json" "$image"

step "terraform plan with the image by the digest the push yields (as before): must fail"
if tf plan -no-color -input=false "${vars[@]}" -var image_reference=digest >"$work/digest.log" 2>&1; then
  echo "the plan accepted a task definition that names an image digest unknown at plan time" >&2
  exit 1
fi
if ! grep -q 'Invalid for_each argument' "$work/digest.log"; then
  cat "$work/digest.log"; echo "the plan failed, but not at filmdrop's for_each" >&2; exit 1
fi
grep -A3 'Invalid for_each argument' "$work/digest.log" | grep -m1 -E '^ +on ' || true
echo "refused: Invalid for_each argument (the rendered definition is unknown)"

# The plan checked above, applied: the image is pushed under the tag the definition names,
# and filmdrop registers the job definition with it and its own roles.
step "terraform apply of that plan"
"$python" - <<'PY'
import io, zipfile, boto3
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("task.py", "def handler(event, context):\n    return event\n")
boto3.client("s3").create_bucket(Bucket="cirrus-dev-code")
boto3.client("s3").put_object(Bucket="cirrus-dev-code", Key="tasks/geo-task.zip", Body=buf.getvalue())
PY
start=$SECONDS
tf apply -no-color -input=false "$work/plan" >"$work/apply.log" 2>&1 || { cat "$work/apply.log"; exit 1; }
echo "applied in $((SECONDS - start)) s: $(grep -E '^Apply complete' "$work/apply.log")"
"$python" - "$image" <<'PY'
import json, sys, boto3
tag = sys.argv[1].rsplit(":", 1)[1]
repository = "cirrus-dev/run-geolambda"
batch, iam = boto3.client("batch"), boto3.client("iam")
pushed = [i["imageTags"] for i in boto3.client("ecr").describe_images(repositoryName=repository)["imageDetails"]]
jobdefs = batch.describe_job_definitions(jobDefinitionName="cirrus-dev-geo-task", status="ACTIVE")["jobDefinitions"]
problems = []
if pushed != [[tag]]:
    problems.append(f"{repository} holds {pushed}, not the tag {tag}")
if len(jobdefs) != 1:
    problems.append(f"job definitions: {jobdefs}")
else:
    c = jobdefs[0]["containerProperties"]
    roles = {r["Arn"]: r["RoleName"] for r in iam.list_roles()["Roles"]}
    if c["image"] != f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{repository}:{tag}":
        problems.append(f"the job runs {c['image']}")
    if not roles.get(c.get("executionRoleArn"), "").startswith("cirrus-dev-compute-role-"):
        problems.append(f"the execution role is not filmdrop's compute role: {c.get('executionRoleArn')}")
    if not roles.get(c.get("jobRoleArn"), "").startswith("cirrus-dev-task-role-"):
        problems.append(f"the job role is not filmdrop's task role: {c.get('jobRoleArn')}")
if problems:
    sys.exit("\n".join(problems))
print(f"pushed {repository}:{tag}; job definition cirrus-dev-geo-task runs it with filmdrop's execution and job roles")
PY
