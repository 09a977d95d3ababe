"""Sizes of pushed images as their registry stores them (compressed layers, from the manifest)
and as the engine holds them (uncompressed), for docs/images.md.
    python scripts/images/sizes.py <images.auto.tfvars.json, digest-pinned by push.py>
Reads the registry over plain HTTP: for the loopback registry of `just test-images`.
"""
import json
import os
import subprocess
import sys
import urllib.request

ACCEPT = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"

doc = json.load(open(sys.argv[1]))
docker = os.environ.get("DOCKER_CLI", "docker")
for key, uri in doc["images"].items():
    registry, rest = uri.split("/", 1)
    repo, digest = rest.split("@")
    req = urllib.request.Request(f"http://{registry}/v2/{repo}/manifests/{digest}", headers={"Accept": ACCEPT})
    manifest = json.loads(urllib.request.urlopen(req).read())
    compressed = sum(layer["size"] for layer in manifest["layers"]) / 1e6
    size = int(subprocess.run([docker, "image", "inspect", "--format", "{{.Size}}", uri],
                              capture_output=True, text=True, check=True).stdout) / 1e6
    name = key.replace("_", "-").replace("/", ":")
    print(f"{name:26} {doc.get('image_architecture', '?'):6} uncompressed {size:6.0f} MB   "
          f"compressed {compressed:6.1f} MB   layers {len(manifest['layers'])}")
