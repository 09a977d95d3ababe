"""What a registry holds under a tag, read over the registry HTTP API (v2): the
manifest's media type and digest, and the image's platform from its config.

Lambda takes only single-image manifests (Docker v2 schema 2 or OCI image
manifests) of the function's architecture: an index (a multi-platform list, or
the attestation index `docker buildx build` makes without --provenance=false)
fails at CreateFunction. `check` says so before Terraform is handed a digest.
"""
from __future__ import annotations

import base64
import hashlib
import json
import urllib.request
from dataclasses import dataclass

IMAGE_TYPES = ("application/vnd.docker.distribution.manifest.v2+json",
               "application/vnd.oci.image.manifest.v1+json")
INDEX_TYPES = ("application/vnd.docker.distribution.manifest.list.v2+json",
               "application/vnd.oci.image.index.v1+json")


@dataclass
class Manifest:
    digest: str
    media_type: str
    platform: str | None  # "linux/arm64"; None for an index


def _get(url: str, auth: str | None, accept: str) -> tuple[bytes, dict]:
    req = urllib.request.Request(url, headers={"Accept": accept})
    if auth:
        req.add_header("Authorization", auth)
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read(), dict(r.headers)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def manifest(registry: str, repository: str, reference: str, auth: str | None = None) -> Manifest:
    """The manifest `registry/repository:reference` (http for a loopback registry, else https)."""
    loopback = registry.split(":")[0] in ("127.0.0.1", "localhost")
    base = f"{'http' if loopback else 'https'}://{registry}/v2/{repository}"
    body, headers = _get(f"{base}/manifests/{reference}", auth, ", ".join(IMAGE_TYPES + INDEX_TYPES))
    headers = {k.lower(): v for k, v in headers.items()}
    doc = json.loads(body)
    media_type = doc.get("mediaType") or headers.get("content-type", "").split(";")[0]
    digest = headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(body).hexdigest()
    if media_type in INDEX_TYPES or "manifests" in doc:
        return Manifest(digest, media_type, None)
    config, _ = _get(f"{base}/blobs/{doc['config']['digest']}", auth, doc["config"]["mediaType"])
    cfg = json.loads(config)
    return Manifest(digest, media_type, f"{cfg.get('os')}/{cfg.get('architecture')}")


def check(m: Manifest, arch: str) -> str | None:
    """Why Lambda or Batch on `arch` would refuse the image, or None."""
    if m.platform is None or m.media_type not in IMAGE_TYPES:
        return (f"{m.digest} is an image index ({m.media_type}), not one image: Lambda refuses it. "
                "Build with `docker buildx build --provenance=false --sbom=false` (just build does).")
    if m.platform != f"linux/{arch}":
        return f"{m.digest} is a {m.platform} image, not linux/{arch}"
    return None
