#!/usr/bin/env python3
"""What crafted uploads cost gdal-lambda: one event of 8 TIFFs of IFDS chained
image file directories (default 100,000: 10 MB each), delivered by run-lambda's
Runtime API to the release binary on moto; prints the outcomes, the wall time
and the function's peak resident memory (VmHWM, polled while it runs).

    python bench/crafted_cost.py [IFDS]
    MAX_TIFF_IFDS=1000000 python bench/crafted_cost.py   # without the IFD limit: GDAL's own cost

Uses the gdal-lambda image's handler and GDAL/PROJ data (lean GDAL), copied out
of localhost/stratus/gdal-lambda:test (what `just test-images` leaves in its
engine: run it with `eval "$(scripts/images/engine.sh)"`), else
target/release/gdal-lambda (`cargo build --release`, the system GDAL).
"""
import json, os, struct, subprocess, sys, tempfile, time
from pathlib import Path

from harness import Moto, s3_event

ROOT = Path(__file__).resolve().parent.parent
IMAGE = os.environ.get("STRATUS_GDAL_LAMBDA_IMAGE", "localhost/stratus/gdal-lambda:test")


def ifd_chain(n: int) -> bytes:
    """n chained one-pixel pages of 8 entries each."""
    out = bytearray(b"II*\0" + struct.pack("<I", 8))
    entries = [(256, 4, 1, 1), (257, 4, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (279, 4, 1, 1)]
    for i in range(n):
        nxt = 0 if i == n - 1 else 8 + (i + 1) * 102
        out += struct.pack("<H", 8) + b"".join(struct.pack("<HHII", *e) for e in entries) + struct.pack("<I", nxt)
    return bytes(out)


def from_image(work: Path) -> tuple[Path, list[str]]:
    """The image's handler, and --env arguments pointing it at the image's GDAL/PROJ data."""
    docker = os.environ.get("DOCKER_CLI", "docker")
    cid = subprocess.run([docker, "create", IMAGE], capture_output=True, text=True, check=True).stdout.strip()
    try:
        subprocess.run([docker, "cp", f"{cid}:/var/task/bootstrap", str(work / "gdal-lambda")], check=True)
        subprocess.run([docker, "cp", f"{cid}:/opt/gdal/share", str(work / "share")], check=True)
    finally:
        subprocess.run([docker, "rm", cid], capture_output=True)
    return work / "gdal-lambda", ["--env", f"GDAL_DATA={work}/share/gdal", "--env", f"PROJ_DATA={work}/share/proj"]


def main() -> None:
    ifds = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    runner = next(p for p in [ROOT / "target/release/run-lambda", ROOT / "target/debug/run-lambda"] if p.exists())
    moto = Moto()
    os.environ.update(AWS_ENDPOINT_URL=moto.endpoint, AWS_ACCESS_KEY_ID="test",
                      AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
                      AWS_EC2_METADATA_DISABLED="true")
    import boto3
    s3 = boto3.client("s3")
    work = Path(tempfile.mkdtemp(prefix="stratus-crafted-"))
    docker = os.environ.get("DOCKER_CLI", "docker")
    if subprocess.run([docker, "image", "inspect", IMAGE], capture_output=True).returncode == 0:
        binary, data = from_image(work)
    else:
        binary, data = ROOT / "target/release/gdal-lambda", []
    try:
        s3.create_bucket(Bucket="crafted")
        body = ifd_chain(ifds)
        keys = [f"crafted/chain-{i}.tif" for i in range(8)]
        for k in keys:
            s3.put_object(Bucket="crafted", Key=k, Body=body)
        (work / "event.json").write_text(json.dumps(s3_event("crafted", keys, len(body))))
        hwm = work / "vmhwm"
        if "MAX_TIFF_IFDS" in os.environ:
            data += ["--env", f"MAX_TIFF_IFDS={os.environ['MAX_TIFF_IFDS']}"]
        (work / "bootstrap").write_text(f"""#!/bin/bash
{binary} & pid=$!
while kill -0 $pid 2>/dev/null; do grep VmHWM /proc/$pid/status >{hwm}.tmp 2>/dev/null && mv {hwm}.tmp {hwm}; sleep 0.01; done
""")
        (work / "bootstrap").chmod(0o755)
        t = time.time()
        subprocess.run([str(runner), "exec", str(work / "bootstrap"), "--runtime", "provided.al2023",
                        "--payload", str(work / "event.json"), "--output", str(work / "response.json"),
                        "--env", "OUTPUT_URL=s3://crafted/stac/", *data], check=True, capture_output=True)
        took = time.time() - t
        outcomes = [(r["status"], r.get("error_kind")) for r in json.loads((work / "response.json").read_text())["records"]]
        print(f"{IMAGE if data else binary}: 8 TIFFs of {ifds} chained IFDs ({len(body) / 1e6:.1f} MB each): "
              f"{took:.2f} s (process start and run-lambda included), peak RSS {hwm.read_text().split()[1]} kB")
        print(f"outcomes: {outcomes}")
    finally:
        moto.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
