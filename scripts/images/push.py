"""`just push`: push the images `just build` made (terraform/images.auto.tfvars.json) into the
deployment's registry, check what the registry now holds (one image manifest of the built
architecture: registry.py), and rewrite that file with the digest-pinned URIs and
`push_images = false`, so that `terraform apply` deploys exactly those digests.

The repositories are `terraform output repository_urls` (they exist after the first apply), or
STRATUS_REGISTRY/stratus/<image>: an ECR registry (<account>.dkr.ecr.<region>.amazonaws.com,
logged in with a token from ECR) or a loopback registry (127.0.0.1:PORT, plain HTTP, no login).
DOCKER_CLI (or CONTAINER_CLI) is the docker CLI; STRATUS_TFVARS moves the hand-over file.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import registry  # noqa: E402

TFVARS = Path(os.environ.get("STRATUS_TFVARS", "terraform/images.auto.tfvars.json"))
NAMES = ("gdal_lambda", "run_lambda", "run_geolambda")


def fail(message: str) -> None:
    sys.exit(f"push: {message}")


def repositories() -> dict[str, str]:
    if reg := os.environ.get("STRATUS_REGISTRY"):
        return {k: f"{reg}/stratus/{k.replace('_', '-')}" for k in NAMES}
    out = subprocess.run(["terraform", "-chdir=terraform", "output", "-json", "repository_urls"],
                         capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.startswith("{"):
        fail("no repositories known: apply the Terraform configuration once, or set STRATUS_REGISTRY")
    return json.loads(out.stdout)


def login(docker: str, host: str) -> str | None:
    """Log the CLI in to an ECR registry; the Authorization header for its HTTP API."""
    if host.split(":")[0] in ("127.0.0.1", "localhost"):
        return None
    try:
        import boto3
    except ImportError:
        fail("boto3 is missing: run `just setup` (or use the .venv's python)")
    region = host.split(".")[3]
    token = boto3.client("ecr", region_name=region).get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    subprocess.run([docker, "login", "--username", user, "--password-stdin", host],
                   input=password.encode(), check=True, stdout=subprocess.DEVNULL)
    return registry.basic_auth(user, password)


def main() -> None:
    docker = os.environ.get("DOCKER_CLI") or os.environ.get("CONTAINER_CLI") or "docker"
    if not TFVARS.exists():
        fail(f"{TFVARS} is missing: run `just build` first")
    doc = json.loads(TFVARS.read_text())
    images, arch = doc["images"], doc.get("image_architecture", "arm64")
    repos = repositories()
    host = next(iter(repos.values())).split("/")[0]
    auth = login(docker, host)
    for key, source in images.items():
        if "@sha256:" in source:
            print(f"push: {key} is already pushed ({source})")
            continue
        # gdal_lambda, or <image>/<runtime>: every runtime's tag goes to its image's repository.
        family = key.split("/")[0]
        if family not in repos:
            fail(f"{key}: the deployment has no {family} repository yet (repository_urls names "
                 f"{', '.join(sorted(repos))}): apply the Terraform configuration with these images once, "
                 "or set STRATUS_REGISTRY")
        repo = repos[family]
        tag = source.rsplit(":", 1)[1]
        subprocess.run([docker, "tag", source, f"{repo}:{tag}"], check=True)
        subprocess.run([docker, "push", "--quiet", f"{repo}:{tag}"], check=True, stdout=subprocess.DEVNULL)
        pushed = registry.manifest(host, repo.split("/", 1)[1], tag, auth)
        if why := registry.check(pushed, arch):
            fail(f"{repo}:{tag}: {why}")
        images[key] = f"{repo}@{pushed.digest}"
        print(f"push: {repo}:{tag} -> {images[key]} ({pushed.platform}, {pushed.media_type})")
    doc["push_images"] = False
    TFVARS.with_suffix(".tmp").write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(TFVARS.with_suffix(".tmp"), TFVARS)
    print(f"push: wrote {TFVARS} (digest-pinned, push_images = false)")


if __name__ == "__main__":
    main()
