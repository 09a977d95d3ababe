#!/usr/bin/env python3
"""A stand-in for `docker` in the moto round trip: moto has ECR's API but no registry.

It answers the commands the image-push module's push.sh runs, and logs each login to
STRATUS_MOTO_LOGINS. `push` stores an image
manifest with ECR's PutImage in moto, so the digest lookup and pinning that follow a
push run for real. The manifest names the source image, so each source tag gets its
own digest (moto derives digests from layer digests). Endpoint: STRATUS_MOTO_ENDPOINT (http://127.0.0.1:PORT).
"""

import hashlib
import json
import os
import sys

import boto3

TAGS_FILE = os.environ.get("STRATUS_MOTO_TAGS", "")
LOGINS_FILE = os.environ.get("STRATUS_MOTO_LOGINS", "")  # one line per login


def ecr():
    return boto3.client(
        "ecr",
        endpoint_url=os.environ["STRATUS_MOTO_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def split(target: str) -> tuple[str, str]:
    """<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> -> (repository, tag)."""
    path = target.split("/", 1)[1]
    repository, tag = path.rsplit(":", 1)
    return repository, tag


def main(argv: list[str]) -> int:
    if argv[:2] == ["image", "inspect"]:
        # What `just build` makes by default, a linux/arm64 image; `{{json .}}` as the classic
        # image store shows it (no Descriptor).
        if argv[3] == "{{json .}}":
            print(json.dumps({"Id": "sha256:" + "2" * 64, "Architecture": "arm64", "Os": "linux"}))
        else:
            print("linux/arm64")
        return 0
    if argv[:1] == ["login"]:
        sys.stdin.read()
        if LOGINS_FILE:
            with open(LOGINS_FILE, "a") as f:
                f.write(argv[-1] + "\n")
        return 0
    if argv[:1] == ["tag"]:
        # Remember which source a target tag stands for, for `push`.
        with open(TAGS_FILE, "a") as f:
            f.write(json.dumps({"source": argv[1], "target": argv[2]}) + "\n")
        return 0
    if argv[:2] == ["manifest", "inspect"]:
        # `manifest inspect -v <target>`: the manifest's descriptor and the platform its config
        # names (what `push` below stored: linux/arm64), as docker prints them, one key a line.
        repository, tag = split(argv[-1])
        images = ecr().batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}])["images"]
        if not images:
            print(f"no such manifest: {argv[-1]}", file=sys.stderr)
            return 1
        manifest = json.loads(images[0]["imageManifest"])
        print(json.dumps({
            "Ref": argv[-1],
            "Descriptor": {"mediaType": manifest["mediaType"], "digest": images[0]["imageId"]["imageDigest"],
                           "platform": {"architecture": "arm64", "os": "linux"}},
            "OCIManifest": manifest,
        }, indent="\t"))
        return 0
    if argv[:1] == ["push"]:
        repository, tag = split(argv[1])
        with open(TAGS_FILE) as f:
            source = [json.loads(line)["source"] for line in f if json.loads(line)["target"] == argv[1]][-1]
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 0, "digest": "sha256:" + "0" * 64},
            # moto derives the digest from the layer digests: one layer per source
            # image gives each build its own digest.
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "size": 0,
                    "digest": "sha256:" + hashlib.sha256(source.encode()).hexdigest(),
                }
            ],
        }
        ecr().put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
        print(f"pushed {source} as {argv[1]}")
        return 0
    print(f"moto-container-cli: unsupported command {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
