#!/usr/bin/env python3
"""Stratus benchmarks, side by side with what a user would pick instead.

All on one machine, on the same data, against moto (the local AWS) on
loopback; every S3 read GDAL makes goes through a counting proxy so requests
and bytes are measured, not assumed. Run with `just bench` (see
docs/benchmarks.md); `--quick` shrinks the data for a smoke run.

1. metadata of one object: gdal-lambda's handler (warm, through a Runtime
   API) vs `gdalinfo -json /vsis3/…` vs a Python GDAL handler under
   awslambdaric (warm) vs rio-stac (in-process, warm; and the `rio stac` CLI);
2. cold start: spawn → first GET /runtime/invocation/next, and peak RSS for
   one invocation, Rust vs Python+GDAL;
3. runner overhead: `run-lambda run` for a trivial Python and a trivial Rust
   function, code and payload on S3, vs starting the runtime client directly;
4. throughput: objects per second through one handler process.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from harness import (REGION, ROOT, CountingProxy, Moto, RuntimeAPI, dist, log, machine, make_cog, reap,
                     s3_event, summary)
from report import report

FUNCTIONS = ROOT / "bench" / "functions"
PY = sys.executable  # the bench venv: GDAL bindings, rasterio, rio-stac, awslambdaric


# ------------------------------------------------------------------ bench

class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="stratus-bench-"))
        self.moto = Moto()
        self.proxy = CountingProxy(self.moto.port)
        self.aws_env = {
            "AWS_ENDPOINT_URL": self.moto.endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
        }
        # gdal-lambda reads S3 with its own S3 client (GDAL reads through it), the others
        # with GDAL's /vsis3/: both through the counting proxy.
        self.rust_s3 = {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{self.proxy.port}"}
        self.gdal_env = {
            "AWS_S3_ENDPOINT": f"127.0.0.1:{self.proxy.port}", "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        }
        os.environ.update(self.aws_env)
        os.environ.update(self.gdal_env)
        import boto3  # after the environment points at moto
        self.s3 = boto3.client("s3")
        self.bucket = "bench"
        self.s3.create_bucket(Bucket=self.bucket)
        self.results: dict = {"machine": machine(), "args": vars(args)}
        bin_dir = ROOT / "target" / "release"
        self.gdal_lambda = Path(args.gdal_lambda or bin_dir / "gdal-lambda")
        self.run_lambda = Path(args.run_lambda or bin_dir / "run-lambda")
        self.echo_function = Path(args.echo_function or bin_dir / "examples" / "echo-function")
        self.objects: dict[str, tuple[list[str], int]] = {}

    def env(self, extra: dict | None = None) -> dict:
        e = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_LAMBDA", "_HANDLER"))}
        # What Lambda sets for every function (runtime clients read them at start).
        e.update({"AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
                  "AWS_LAMBDA_LOG_STREAM_NAME": "bench"})
        e.update(self.aws_env)
        e.update(self.gdal_env)
        e.update(extra or {})
        return e

    def close(self) -> None:
        self.proxy.sock.close()
        self.moto.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    # -- data -------------------------------------------------------------
    def prepare(self) -> None:
        sizes = {"1 MB": 1024, "100 MB": 10240, "1 GB": 32768}
        if self.args.quick:
            sizes = {"1 MB": 1024, "100 MB": 4096, "1 GB": 8192}
        n = self.args.objects
        for label, px in sizes.items():
            t0 = time.time()
            path = make_cog(self.work, label.replace(" ", ""), px)
            size = path.stat().st_size
            first = f"{label.replace(' ', '')}/obj-000.tif"
            self.s3.upload_file(str(path), self.bucket, first)
            keys = [first]
            for i in range(1, n + 1):  # one more than measured: the warm-up object
                key = f"{label.replace(' ', '')}/obj-{i:03}.tif"
                self.s3.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": first},
                                    MetadataDirective="COPY")
                keys.append(key)
            path.unlink()
            self.objects[label] = (keys, size)
            log(f"data: {n + 1} COGs of {size / 1e6:.1f} MB ({px}x{px} px) in {time.time() - t0:.0f} s")

    # -- 1. metadata latency -------------------------------------------------
    def handler_latency(self, name: str, cmd: list[str], cwd: Path | None, extra_env: dict) -> dict:
        api = RuntimeAPI()
        env = self.env({"AWS_LAMBDA_RUNTIME_API": api.address, **extra_env})
        log_file = open(self.work / f"{name}.log", "wb")
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log_file, stderr=log_file)
        out = {}
        try:
            for label, (keys, size) in self.objects.items():
                warm, measured = keys[0], keys[1:]
                api.wait(api.submit(s3_event(self.bucket, [warm], size)), proc)
                lat, reqs, bts = [], [], []
                for key in measured:
                    self.proxy.reset()
                    start, end, body, err = api.wait(api.submit(s3_event(self.bucket, [key], size)), proc)
                    if err or b"processed" not in body:
                        raise RuntimeError(f"{name} failed on {key}: {body[:300]!r}")
                    lat.append((end - start) / 1e6)
                    r, b = self.proxy.snapshot()
                    reqs.append(r)
                    bts.append(b)
                out[label] = summary(lat, reqs, bts)
        finally:
            reap(proc)
            api.stop()
            log_file.close()
        return out

    def gdalinfo_latency(self) -> dict:
        out = {}
        env = self.env()
        for label, (keys, _) in self.objects.items():
            lat, reqs, bts = [], [], []
            for key in keys[1:]:
                self.proxy.reset()
                t0 = time.perf_counter_ns()
                subprocess.run(["gdalinfo", "-json", f"/vsis3/{self.bucket}/{key}"], env=env, check=True,
                               stdout=subprocess.DEVNULL)
                lat.append((time.perf_counter_ns() - t0) / 1e6)
                r, b = self.proxy.snapshot()
                reqs.append(r)
                bts.append(b)
            out[label] = summary(lat, reqs, bts)
        return out

    def rio_stac_latency(self) -> dict:
        from rio_stac import create_stac_item  # rasterio's GDAL reads the proxy settings from the environment
        out = {}
        for label, (keys, _) in self.objects.items():
            create_stac_item(f"/vsis3/{self.bucket}/{keys[0]}", with_proj=True, with_raster=True, with_eo=True)
            lat, reqs, bts = [], [], []
            for key in keys[1:]:
                self.proxy.reset()
                t0 = time.perf_counter_ns()
                create_stac_item(f"/vsis3/{self.bucket}/{key}", with_proj=True, with_raster=True, with_eo=True)
                lat.append((time.perf_counter_ns() - t0) / 1e6)
                r, b = self.proxy.snapshot()
                reqs.append(r)
                bts.append(b)
            out[label] = summary(lat, reqs, bts)
        return out

    def rio_stac_cli_latency(self) -> dict:
        rio = Path(PY).parent / "rio"
        out = {}
        env = self.env()
        for label, (keys, _) in self.objects.items():
            lat, reqs, bts = [], [], []
            for key in keys[1: 1 + min(5, len(keys) - 1)]:  # a process per object: a few suffice
                self.proxy.reset()
                t0 = time.perf_counter_ns()
                subprocess.run([str(rio), "stac", f"/vsis3/{self.bucket}/{key}", "-o", str(self.work / "rio.json")],
                               env=env, check=True, stdout=subprocess.DEVNULL)
                lat.append((time.perf_counter_ns() - t0) / 1e6)
                r, b = self.proxy.snapshot()
                reqs.append(r)
                bts.append(b)
            out[label] = summary(lat, reqs, bts)
        return out

    def metadata(self) -> None:
        self.s3.create_bucket(Bucket="bench-out")
        res = {}
        log("1. metadata: gdal-lambda (Rust)")
        res["gdal-lambda (Rust)"] = self.handler_latency(
            "rust", [str(self.gdal_lambda)], None,
            {"OUTPUT_URL": "s3://bench-out/rust/", "AWS_LAMBDA_LOG_FORMAT": "JSON", **self.rust_s3})
        log("1. metadata: Python GDAL handler")
        res["Python GDAL handler"] = self.handler_latency(
            "python", [PY, "-m", "awslambdaric", "py_gdal_handler.handler"], FUNCTIONS,
            {"OUTPUT_URL": "s3://bench-out/python/"})
        log("1. metadata: gdalinfo -json")
        res["gdalinfo -json"] = self.gdalinfo_latency()
        log("1. metadata: rio-stac (in-process)")
        res["rio-stac (in-process)"] = self.rio_stac_latency()
        log("1. metadata: rio stac (CLI)")
        res["rio stac (CLI)"] = self.rio_stac_cli_latency()
        self.results["metadata"] = res

    # -- 2. cold start -------------------------------------------------------
    def cold_start(self) -> None:
        keys, size = self.objects["1 MB"]
        cases = {
            "gdal-lambda (Rust)": ([str(self.gdal_lambda)], None, {"OUTPUT_URL": "s3://bench-out/cold/", **self.rust_s3}),
            "Python GDAL handler": ([PY, "-m", "awslambdaric", "py_gdal_handler.handler"], FUNCTIONS,
                                    {"OUTPUT_URL": "s3://bench-out/cold/"}),
        }
        res = {}
        for name, (cmd, cwd, extra) in cases.items():
            log(f"2. cold start: {name}")
            starts, rss = [], []
            for i in range(self.args.cold_runs):
                api = RuntimeAPI()
                env = self.env({"AWS_LAMBDA_RUNTIME_API": api.address, **extra})
                t0 = time.perf_counter_ns()
                proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                first = api.wait_first_next()

                api.wait(api.submit(s3_event(self.bucket, [keys[1 + i % (len(keys) - 1)]], size)), proc)
                rss.append(reap(proc) / 1024)
                api.stop()
                starts.append((first - t0) / 1e6)
            res[name] = {"start_ms": dist(starts), "peak_rss_mib": dist(rss)}
        self.results["cold_start"] = res

    # -- 3. runner overhead --------------------------------------------------
    def runner(self) -> None:
        import boto3
        lam, iam = boto3.client("lambda"), boto3.client("iam")
        role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        py_zip = self.work / "py.zip"
        with zipfile.ZipFile(py_zip, "w") as z:
            z.write(FUNCTIONS / "py_trivial.py", "py_trivial.py")
        rs_zip = self.work / "rs.zip"
        with zipfile.ZipFile(rs_zip, "w") as z:
            info = zipfile.ZipInfo("bootstrap")
            info.external_attr = 0o755 << 16
            z.writestr(info, self.echo_function.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
        functions = {
            "Python (python3.12)": ("bench-py", "python3.12", "py_trivial.handler", py_zip),
            "Rust (provided.al2023)": ("bench-rs", "provided.al2023", "bootstrap", rs_zip),
        }
        payload_key = "payloads/trivial.json"
        self.s3.put_object(Bucket=self.bucket, Key=payload_key,
                           Body=json.dumps({"mode": "echo", "type": "FeatureCollection", "features": []}).encode())
        res = {}
        for name, (fn, runtime, handler, zpath) in functions.items():
            code_key = f"code/{zpath.name}"
            self.s3.upload_file(str(zpath), self.bucket, code_key)
            lam.create_function(FunctionName=fn, Runtime=runtime, Role=role, Handler=handler,
                                Code={"ZipFile": zpath.read_bytes()}, Architectures=["x86_64"])
            log(f"3. runner: {name}")
            to_handler, total, floor = [], [], []
            env = self.env({"STRATUS_PYTHON": PY})
            for _ in range(self.args.runner_runs):
                t0 = time.time_ns()
                subprocess.run([str(self.run_lambda), "run", fn, f"s3://{self.bucket}/{payload_key}",
                                "--code", f"s3://{self.bucket}/{code_key}"], env=env, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                t1 = time.time_ns()
                out = json.loads(self.s3.get_object(Bucket=self.bucket, Key="payloads/trivial_out.json")["Body"].read())
                to_handler.append((received_at(out) - t0) / 1e6)
                total.append((t1 - t0) / 1e6)
            # The floor: the runtime client started directly, code already on disk.
            code_dir = self.work / f"code-{fn}"
            with zipfile.ZipFile(zpath) as z:
                z.extractall(code_dir)
            (code_dir / "bootstrap").exists() and (code_dir / "bootstrap").chmod(0o755)
            cmd = [PY, "-m", "awslambdaric", handler] if runtime.startswith("python") else [str(code_dir / "bootstrap")]
            for _ in range(self.args.runner_runs):
                api = RuntimeAPI()
                rid = api.submit({"mode": "echo"})
                t0 = time.time_ns()
                proc = subprocess.Popen(cmd, cwd=code_dir, env=self.env({"AWS_LAMBDA_RUNTIME_API": api.address,
                                                                           "_HANDLER": handler}),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _, _, body, _ = api.wait(rid, proc)
                reap(proc)
                api.stop()
                floor.append((received_at(json.loads(body)) - t0) / 1e6)
            res[name] = {"run_to_handler_ms": dist(to_handler), "run_total_ms": dist(total),
                         "direct_to_handler_ms": dist(floor),
                         "overhead_ms": statistics.median(to_handler) - statistics.median(floor)}
        self.results["runner"] = res

    # -- 4. throughput -------------------------------------------------------
    def throughput(self) -> None:
        keys, size = self.objects["1 MB"]
        n = self.args.burst
        log(f"4. throughput: copying {n} small objects")
        burst = [f"burst/obj-{i:04}.tif" for i in range(n)]
        for k in burst:
            self.s3.copy_object(Bucket=self.bucket, Key=k, CopySource={"Bucket": self.bucket, "Key": keys[0]})
        per_event = 10
        res = {}
        cases = {
            "gdal-lambda (Rust)": ([str(self.gdal_lambda)], None, {"OUTPUT_URL": "s3://bench-out/tp-rust/",
                                                                  "AWS_LAMBDA_LOG_FORMAT": "JSON", **self.rust_s3}),
            "Python GDAL handler": ([PY, "-m", "awslambdaric", "py_gdal_handler.handler"], FUNCTIONS,
                                    {"OUTPUT_URL": "s3://bench-out/tp-python/"}),
        }
        for name, (cmd, cwd, extra) in cases.items():
            log(f"4. throughput: {name}")
            api = RuntimeAPI()
            log_file = open(self.work / f"tp-{len(res)}.log", "wb")
            proc = subprocess.Popen(cmd, cwd=cwd, env=self.env({"AWS_LAMBDA_RUNTIME_API": api.address, **extra}),
                                    stdout=log_file, stderr=log_file)
            api.wait(api.submit(s3_event(self.bucket, [keys[0]], size)), proc)  # warm
            rates = {}
            for label, ks, sz in [(f"{n} x 1 MB", burst, size)] + [
                    (f"{len(self.objects[l][0]) - 1} x {l}", self.objects[l][0][1:], self.objects[l][1])
                    for l in ("100 MB", "1 GB")]:
                t0 = time.perf_counter_ns()
                rids = [api.submit(s3_event(self.bucket, ks[i:i + per_event], sz)) for i in range(0, len(ks), per_event)]
                for rid in rids:
                    _, _, body, err = api.wait(rid, proc)
                    if err:
                        raise RuntimeError(f"{name}: {body[:300]!r}")
                secs = (time.perf_counter_ns() - t0) / 1e9
                rates[label] = {"objects_per_s": len(ks) / secs, "seconds": secs}
            reap(proc)
            api.stop()
            log_file.close()
            res[name] = rates
        self.results["throughput"] = res


def received_at(out: dict) -> int:
    """The handler's own receipt time, from the trivial functions' responses."""
    for k in ("received_at_ns",):
        if k in out:
            return int(out[k])
    if "context" in out and "received_at_ns" in out["context"]:
        return int(out["context"]["received_at_ns"])
    raise RuntimeError(f"no receipt time in {str(out)[:200]}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", type=int, default=20, help="measured objects per size (default 20)")
    p.add_argument("--cold-runs", type=int, default=20)
    p.add_argument("--runner-runs", type=int, default=20)
    p.add_argument("--burst", type=int, default=1000, help="small objects in the throughput burst")
    p.add_argument("--quick", action="store_true", help="smaller files (1/4/64 MB) for a smoke run")
    p.add_argument("--only", nargs="*", choices=["metadata", "cold", "runner", "throughput"])
    p.add_argument("--gdal-lambda"), p.add_argument("--run-lambda"), p.add_argument("--echo-function")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    p.add_argument("--plot", default=str(ROOT / "docs" / "img" / "benchmarks-latency.png"))
    args = p.parse_args()
    only = set(args.only or ["metadata", "cold", "runner", "throughput"])
    b = Bench(args)
    try:
        if only & {"metadata", "cold", "throughput"}:
            b.prepare()
        if "metadata" in only:
            b.metadata()
        if "cold" in only:
            b.cold_start()
        if "runner" in only:
            b.runner()
        if "throughput" in only:
            b.throughput()
    finally:
        b.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(b.results, indent=1))
    text = report(b.results, Path(args.plot) if "metadata" in only else None)
    (out / "latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
