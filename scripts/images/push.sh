#!/usr/bin/env bash
# `just push`: push the images `just build` made (terraform/images.auto.tfvars.json) into the
# ECR repositories of the deployment, then rewrite that file with the pushed, digest-pinned URIs
# and `push_images = false`, so that `terraform apply` deploys exactly those digests without
# pushing again. The repositories come from `terraform output repository_urls` (they exist after
# the first apply), or from STRATUS_REGISTRY=<account>.dkr.ecr.<region>.amazonaws.com with the
# default names stratus/<image>. `terraform apply` alone also pushes (docs/terraform.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

docker=${CONTAINER_CLI:-docker}
if ! command -v "$docker" >/dev/null || ! "$docker" info >/dev/null 2>&1; then
  echo "push: no Docker engine here ($docker): build and push on a machine with one (docs/deploy.md)" >&2
  exit 1
fi
tfvars=terraform/images.auto.tfvars.json
[[ -f $tfvars ]] || { echo "push: $tfvars is missing: run \`just build\` first" >&2; exit 1; }

if [[ -n ${STRATUS_REGISTRY:-} ]]; then
  repos=$(printf '{"gdal_lambda":"%s/stratus/gdal-lambda","run_lambda":"%s/stratus/run-lambda","run_geolambda":"%s/stratus/run-geolambda"}' \
    "$STRATUS_REGISTRY" "$STRATUS_REGISTRY" "$STRATUS_REGISTRY")
elif ! repos=$(terraform -chdir=terraform output -json repository_urls 2>/dev/null) || [[ $repos != "{"* ]]; then
  echo "push: no ECR repositories known: apply the Terraform configuration once, or set STRATUS_REGISTRY" >&2
  exit 1
fi

python3 - "$docker" "$tfvars" "$repos" <<'PY'
import base64, json, os, subprocess, sys
docker, path, repos = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
doc = json.load(open(path))
images = doc["images"]
try:
    import boto3
except ImportError:
    sys.exit("push: boto3 is missing: run `just setup` (or use the .venv's python)")
registry = next(iter(repos.values())).split("/")[0]
region = registry.split(".")[3]
token = boto3.client("ecr", region_name=region).get_authorization_token()["authorizationData"][0]
user, password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
subprocess.run([docker, "login", "--username", user, "--password-stdin", registry],
               input=password.encode(), check=True, stdout=subprocess.DEVNULL)
for key, source in images.items():
    if "@sha256:" in source:
        print(f"push: {key} is already pushed ({source})")
        continue
    target = f"{repos[key]}:{source.rsplit(':', 1)[1]}"
    subprocess.run([docker, "tag", source, target], check=True)
    subprocess.run([docker, "push", "--quiet", target], check=True)
    digests = json.loads(subprocess.run([docker, "image", "inspect", "--format", "{{json .RepoDigests}}", target],
                                        check=True, capture_output=True, text=True).stdout)
    pinned = next(d for d in digests if d.startswith(repos[key] + "@"))
    print(f"push: {target} -> {pinned}")
    images[key] = pinned
doc["push_images"] = False
with open(path + ".tmp", "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(path + ".tmp", path)
print(f"push: wrote {path} (digest-pinned, push_images = false)")
PY
