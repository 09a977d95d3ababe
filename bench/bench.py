#!/usr/bin/env python3
"""Stratus benchmarks, side by side with what a user would pick instead.

All on one machine, on the same data. S3 is a local server whose ranged GETs
cost the same at any object size (bench/fast-s3), behind a proxy that counts
every request and byte and can add S3's in-region time to first byte to each
request; moto serves what needs AWS's control plane (Lambda). Run with
`just bench` (see docs/benchmarks.md); `--quick` shrinks the data for a smoke run.

0. S3 itself: a 32 KiB ranged GET by object size, the fast S3 against moto;
1. metadata of one object: gdal-lambda's handler (warm, through a Runtime
   API) vs a Python GDAL handler under awslambdaric (warm) vs `gdalinfo -json
   /vsis3/…` vs rio-stac (in-process, warm; and the `rio stac` CLI), without
   and with the injected latency, against each tool's floor (its sequential
   S3 round trips × the latency);
2. cold start of both handlers' images: spawn → first GET /runtime/invocation/next,
   the first invocation, and peak RSS;
3. runner overhead: `run-lambda run` for a trivial Python and a trivial Rust
   function, code and payload on S3, vs starting the runtime client directly;
4. throughput: objects per second through one handler process, without and
   with the latency, and by gdal-lambda's MAX_CONCURRENCY;
5. cost per million objects on Lambda (arm64), from 1 and 2 (in the report);
6. the parse worker: the same parse from memory in a confined worker and in
   the handler's own process (the design before the worker), per record, and
   the worker's start, confinement included;
7. formats: the metadata of a typical file of each format besides GeoTIFF
   (JPEG 2000, netCDF classic and netCDF-4, HDF5, HDF4, GRIB 2) and of COGs
   in the newer codecs, with S3's latency: requests, bytes and latency of both
   handlers against the floor, and peak RSS (the Python handler reads through
   Debian's GDAL, whose netCDF, HDF4 and HDF5 drivers do not read /vsis3/ alike);
8. thumbnails: gdal-lambda on the same COGs without and with THUMBNAIL_FORMAT=png, without and
   with the latency: the requests, bytes and time a thumbnail of the smallest overview adds.
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

from harness import (REGION, ROOT, CountingProxy, FastS3, Moto, RuntimeAPI, children_hwm, dist, log, machine,
                     make_cog, reap, s3_event, summary)
from report import PYTHON, RUST, report

FUNCTIONS = ROOT / "bench" / "functions"
PY = sys.executable  # the bench venv: GDAL bindings, rasterio, rio-stac, awslambdaric
# gdal-lambda is built with the GDAL the image ships (scripts/bench): its data, for its processes
# only; the peers run the system's GDAL with the system's data.
SHIPPED_GDAL_DATA = {k: os.environ[f"STRATUS_SHIPPED_{k}"] for k in ("GDAL_DATA", "PROJ_DATA")
                     if f"STRATUS_SHIPPED_{k}" in os.environ}
PARTS = ["s3", "metadata", "cold", "runner", "throughput", "worker", "formats", "thumbnail"]
IMAGES = {"gdal-lambda": RUST, "python-gdal": PYTHON}  # image_cold's images, by the handler they carry
FULL = {"objects": 20, "range_reads": 10, "cold_runs": 20, "runner_runs": 20, "burst": 1000,
        "concurrency": [1, 2, 4, 8, 10], "parses": 500, "format_objects": 10}
QUICK = {"objects": 3, "range_reads": 3, "cold_runs": 3, "runner_runs": 3, "burst": 50, "concurrency": [1, 10],
         "parses": 20, "format_objects": 2}


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="stratus-bench-"))
        self.moto = Moto()
        self.fast = FastS3(Path(args.fast_s3), self.work / "s3")
        self.proxy = CountingProxy(self.fast.port)
        s3_via_proxy = f"127.0.0.1:{self.proxy.port}"
        # Every process reads and writes S3 through the proxy: the SDKs (gdal-lambda's Rust
        # client, through which its GDAL reads; boto3) by AWS_ENDPOINT_URL_S3, GDAL's /vsis3/ by
        # AWS_S3_ENDPOINT. Other services (Lambda) are moto's.
        self.aws_env = {
            "AWS_ENDPOINT_URL": self.moto.endpoint, "AWS_ENDPOINT_URL_S3": f"http://{s3_via_proxy}",
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
        }
        self.gdal_env = {
            "AWS_S3_ENDPOINT": s3_via_proxy, "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        }
        os.environ.update(self.aws_env)
        os.environ.update(self.gdal_env)
        import boto3  # after the environment points at the local services
        # The harness' own S3 calls go straight to the server, uncounted and undelayed.
        self.s3 = boto3.client("s3", endpoint_url=self.fast.endpoint)
        self.bucket = "bench"
        for b in (self.bucket, "bench-out"):
            self.s3.create_bucket(Bucket=b)
        self.results: dict = {"machine": machine(), "args": vars(args)}
        bin_dir = ROOT / "target" / "release"
        self.gdal_lambda = Path(args.gdal_lambda or bin_dir / "gdal-lambda")
        self.run_lambda = Path(args.run_lambda or bin_dir / "run-lambda")
        self.echo_function = Path(args.echo_function or bin_dir / "examples" / "echo-function")
        self.originals: dict[str, tuple[str, int]] = {}  # size label -> (key, bytes)
        self.objects: dict[str, tuple[list[str], int]] = {}  # size label -> (keys to read, bytes)
        self.sizes = {"1 MB": 1024, "100 MB": 10240, "1 GB": 32768}
        if args.quick:
            self.sizes = {"1 MB": 1024, "16 MB": 4096, "64 MB": 8192}

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

    def handlers(self, out: str, concurrency: int | None = None) -> dict[str, tuple[list[str], Path | None, dict]]:
        """The two Lambda handlers, as (command, working directory, environment), writing under
        s3://bench-out/<out>/."""
        rust_env = {"OUTPUT_URL": f"s3://bench-out/{out}/rust/", "AWS_LAMBDA_LOG_FORMAT": "JSON",
                    **SHIPPED_GDAL_DATA}
        if concurrency:
            rust_env["MAX_CONCURRENCY"] = str(concurrency)
        return {
            RUST: ([str(self.gdal_lambda)], None, rust_env),
            PYTHON: ([PY, "-m", "awslambdaric", "py_gdal_handler.handler"], FUNCTIONS,
                     {"OUTPUT_URL": f"s3://bench-out/{out}/python/"}),
        }

    def close(self) -> None:
        self.proxy.close()
        self.fast.stop()
        self.moto.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    # -- data -------------------------------------------------------------
    def prepare(self) -> None:
        for label, px in self.sizes.items():
            t0 = time.time()
            path = make_cog(self.work, label.replace(" ", ""), px)
            self.originals[label] = (f"originals/{path.name}", path.stat().st_size)
            self.s3.upload_file(str(path), self.bucket, self.originals[label][0])
            path.unlink()
            log(f"data: a COG of {self.originals[label][1] / 1e6:.1f} MB ({px}x{px} px) in {time.time() - t0:.0f} s")
        self.renew("base")

    def renew(self, tag: str) -> None:
        """Fresh keys for each size (one more than measured: the warm-up object), so nothing a
        tool cached from one run's reads serves the next run."""
        for label, (original, size) in self.originals.items():
            keys = [f"{tag}/{label.replace(' ', '')}/obj-{i:03}.tif" for i in range(self.args.objects + 1)]
            for key in keys:
                self.fast.link(self.bucket, original, key)
            self.objects[label] = (keys, size)

    # -- 0. S3 itself --------------------------------------------------------
    def range_reads(self) -> None:
        """The 32 KiB header read every tool starts with, timed by object size on both local
        S3s: what the fast S3 changes."""
        import boto3
        moto = boto3.client("s3", endpoint_url=self.moto.endpoint)
        moto.create_bucket(Bucket=self.bucket)
        res: dict = {"fast S3": {}, "moto": {}}
        for label, (key, _) in self.originals.items():
            moto.upload_file(str(self.fast.root / self.bucket / key), self.bucket, key)
            for server, client in (("fast S3", self.s3), ("moto", moto)):
                times = []
                for _ in range(self.args.range_reads):
                    t0 = time.perf_counter_ns()
                    client.get_object(Bucket=self.bucket, Key=key, Range="bytes=0-32767")["Body"].read()
                    times.append((time.perf_counter_ns() - t0) / 1e6)
                res[server][label] = dist(times)
            moto.delete_object(Bucket=self.bucket, Key=key)
        # What the local server and the proxy add to each round trip (boto3 doing nothing else,
        # so an upper bound): the local share of a handler's time above its floor.
        via_proxy = boto3.client("s3", endpoint_url=self.aws_env["AWS_ENDPOINT_URL_S3"])
        key, _ = self.originals["1 MB"]
        for name, call in (("GET 32 KiB", lambda i: via_proxy.get_object(
                                Bucket=self.bucket, Key=key, Range="bytes=0-32767")["Body"].read()),
                           ("PUT 3 KB", lambda i: via_proxy.put_object(
                                Bucket="bench-out", Key=f"bare/{i}.json", Body=b"{}".ljust(3000)))):
            times = []
            for i in range(self.args.range_reads * 3):
                t0 = time.perf_counter_ns()
                call(i)
                times.append((time.perf_counter_ns() - t0) / 1e6)
            res.setdefault("via proxy", {})[name] = dist(times)
            log(f"0. ranged GET at {label}: fast S3 {res['fast S3'][label]['p50']:.1f} ms, "
                f"moto {res['moto'][label]['p50']:.1f} ms")
        self.results["s3"] = res

    # -- 1. metadata latency -------------------------------------------------
    def handler_latency(self, name: str, cmd: list[str], cwd: Path | None, extra_env: dict,
                        rss: bool = False) -> dict:
        api = RuntimeAPI()
        env = self.env({"AWS_LAMBDA_RUNTIME_API": api.address, **extra_env})
        log_file = open(self.work / f"{name.split()[0]}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log_file, stderr=log_file)
        out = {}
        try:
            for label, (keys, size) in self.objects.items():
                warm, measured = keys[0], keys[1:]
                api.wait(api.submit(s3_event(self.bucket, [warm], size)), proc)
                samples, phases = [], []
                for key in measured:
                    self.proxy.reset()
                    start, end, body, err = api.wait(api.submit(s3_event(self.bucket, [key], size)), proc)
                    if err or b"processed" not in body:
                        raise RuntimeError(f"{name} failed on {key}: {body[:300]!r}")
                    samples.append(((end - start) / 1e6, *self.proxy.snapshot()))
                    phases.append(self.proxy.phases(start, end))
                out[label] = summary(samples)
                out[label]["phases_ms"] = {p: statistics.median(x[p] for x in phases) for p in phases[0]}
                if rss:
                    out[label]["workers_peak_rss_kib"] = children_hwm(proc.pid)
        finally:
            hwm = reap(proc)
            if rss:
                for r in out.values():
                    r["peak_rss_kib"] = hwm
            api.stop()
            log_file.close()
        return out

    def timed(self, keys: list[str], run) -> dict:
        """Latency, requests and bytes of run(key) for each key (the caller's tool, in-process
        or as a process)."""
        samples = []
        for key in keys:
            self.proxy.reset()
            t0 = time.perf_counter_ns()
            run(key)
            samples.append(((time.perf_counter_ns() - t0) / 1e6, *self.proxy.snapshot()))
        return summary(samples)

    def gdalinfo_latency(self) -> dict:
        env = self.env()
        return {label: self.timed(keys[1:], lambda key: subprocess.run(
            ["gdalinfo", "-json", f"/vsis3/{self.bucket}/{key}"], env=env, check=True, stdout=subprocess.DEVNULL))
            for label, (keys, _) in self.objects.items()}

    def rio_stac_latency(self) -> dict:
        from rio_stac import create_stac_item  # rasterio's GDAL reads the proxy settings from the environment
        item = lambda key: create_stac_item(f"/vsis3/{self.bucket}/{key}",  # noqa: E731
                                            with_proj=True, with_raster=True, with_eo=True)
        out = {}
        for label, (keys, _) in self.objects.items():
            item(keys[0])  # warm
            out[label] = self.timed(keys[1:], item)
        return out

    def rio_stac_cli_latency(self) -> dict:
        rio, env = Path(PY).parent / "rio", self.env()
        return {label: self.timed(keys[1: 1 + min(5, len(keys) - 1)], lambda key: subprocess.run(
            [str(rio), "stac", f"/vsis3/{self.bucket}/{key}", "-o", str(self.work / "rio.json")],
            env=env, check=True, stdout=subprocess.DEVNULL))  # a process per object: a few suffice
            for label, (keys, _) in self.objects.items()}

    def metadata(self) -> None:
        res = {}
        for delay in (0, self.args.latency_ms):
            self.proxy.set_delay(delay)
            self.renew(f"metadata-{delay:g}")
            mode = res[f"{delay:g} ms"] = {}
            for name, (cmd, cwd, env) in self.handlers(f"metadata-{delay:g}").items():
                log(f"1. metadata (+{delay:g} ms per request): {name}")
                mode[name] = self.handler_latency(name, cmd, cwd, env)
            for name, measure in (("gdalinfo -json", self.gdalinfo_latency),
                                  ("rio-stac (in-process)", self.rio_stac_latency),
                                  ("rio stac (CLI)", self.rio_stac_cli_latency)):
                log(f"1. metadata (+{delay:g} ms per request): {name}")
                mode[name] = measure()
        self.proxy.set_delay(0)
        self.results["metadata"] = res

    # -- 2. cold start -------------------------------------------------------
    def cold_start(self) -> None:
        import image_cold
        keys, size = self.objects["1 MB"]
        log(f"2. cold start in the images ({self.args.cold_runs} runs each)")
        res = image_cold.measure(
            self.args.cold_runs, self.env(), lambda i: s3_event(self.bucket, [keys[1 + i % (len(keys) - 1)]], size),
            image_env={image: {"OUTPUT_URL": f"s3://bench-out/cold/{image}/"} for image in IMAGES})
        self.results["cold_start"] = {IMAGES[image]: r for image, r in res.items()}

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
        # The interpreter's own runtime, so run-lambda's runtime check passes.
        py_runtime = f"python3.{sys.version_info.minor}"
        functions = {
            f"Python ({py_runtime})": ("bench-py", py_runtime, "py_trivial.handler", py_zip),
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
                                Code={"ZipFile": zpath.read_bytes()}, Architectures=[host_arch()])
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
    def events_through(self, name: str, cmd: list[str], cwd: Path | None, extra: dict,
                       batches: list[tuple[str, list[str], int]]) -> dict:
        """Objects per second through one warm handler process: each batch's keys in events of
        10 records, all queued at once (Lambda's pollers keep a busy function fed)."""
        api = RuntimeAPI()
        with open(self.work / f"tp-{name.split()[0]}.log", "ab") as log_file:
            proc = subprocess.Popen(cmd, cwd=cwd, env=self.env({"AWS_LAMBDA_RUNTIME_API": api.address, **extra}),
                                    stdout=log_file, stderr=log_file)
            try:
                keys, size = self.objects["1 MB"]
                api.wait(api.submit(s3_event(self.bucket, [keys[0]], size)), proc)  # warm
                rates = {}
                for label, ks, sz in batches:
                    t0 = time.perf_counter_ns()
                    rids = [api.submit(s3_event(self.bucket, ks[i:i + 10], sz)) for i in range(0, len(ks), 10)]
                    for rid in rids:
                        _, _, body, err = api.wait(rid, proc)
                        if err:
                            raise RuntimeError(f"{name}: {body[:300]!r}")
                    secs = (time.perf_counter_ns() - t0) / 1e9
                    rates[label] = {"objects_per_s": len(ks) / secs, "seconds": secs}
            finally:
                reap(proc)
                api.stop()
        return rates

    def throughput(self) -> None:
        original, size = self.originals["1 MB"]
        n = self.args.burst
        res: dict = {}
        for delay in (0, self.args.latency_ms):
            self.renew(f"throughput-{delay:g}")
            burst = [f"throughput-{delay:g}/burst/obj-{i:04}.tif" for i in range(n)]
            for k in burst:
                self.fast.link(self.bucket, original, k)
            batches = [(f"{n} x 1 MB", burst, size)] + [
                (f"{len(self.objects[s][0]) - 1} x {s}", self.objects[s][0][1:], self.objects[s][1])
                for s in list(self.sizes)[1:]]
            self.proxy.set_delay(delay)
            mode = res[f"{delay:g} ms"] = {}
            for name, (cmd, cwd, env) in self.handlers(f"tp-{delay:g}").items():
                log(f"4. throughput (+{delay:g} ms per request): {name}")
                mode[name] = self.events_through(name, cmd, cwd, env, batches)
            # How gdal-lambda's concurrency within an event pays off, on the small objects.
            for c in self.args.concurrency:
                log(f"4. throughput (+{delay:g} ms per request): gdal-lambda, MAX_CONCURRENCY={c}")
                cmd, cwd, env = self.handlers(f"tp-{delay:g}-c{c}", concurrency=c)[RUST]
                mode[f"{RUST}, MAX_CONCURRENCY={c}"] = self.events_through(RUST, cmd, cwd, env, batches[:1])
        self.proxy.set_delay(0)
        self.results["throughput"] = res


    # -- 6. the parse worker -------------------------------------------------
    def worker(self) -> None:
        """gdal-lambda bench-parse: the same bytes parsed from memory in a confined worker and
        in-process, so the difference is what the worker costs a record (no S3 in it)."""
        res = {}
        for name, px in (("COG 1024 px", 1024), ("COG 8192 px", 8192)):
            cog = make_cog(self.work, f"parse-{px}", px)
            log(f"6. parse worker: {name} ({self.args.parses} parses each way)")
            out = subprocess.run([str(self.gdal_lambda), "bench-parse", str(cog), "--runs", str(self.args.parses)],
                                 env=self.env(SHIPPED_GDAL_DATA), check=True, capture_output=True,
                                 text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            res[name] = {"worker_ms": dist(r["worker_ms"]), "in_process_ms": dist(r["in_process_ms"]),
                         "worker_start_ms": r["worker_start_ms"], "bytes": r["bytes"]}
        self.results["worker"] = res


    # -- 7. formats ----------------------------------------------------------
    def formats(self) -> None:
        """Each format's metadata through both warm handlers, with S3's latency: what a typical
        file of it costs in requests, bytes and time, against the floor (the round trips × the
        latency), and the handlers' peak RSS (gdal-lambda: the handler and its largest worker)."""
        files = make_format_samples(self.work / "formats")
        self.proxy.set_delay(self.args.latency_ms)
        originals = {}
        for label, path in files.items():
            key = f"format-originals/{path.name}"
            self.s3.upload_file(str(path), self.bucket, key)
            originals[label] = (key, path.stat().st_size)
        saved = self.objects
        res: dict = {}
        try:
            for name, (cmd, cwd, env) in self.handlers("formats").items():
                res[name] = {}
                for label, (original, size) in originals.items():
                    keys = [f"formats/{name.split()[0]}/{label}/{i}-{Path(original).name}"
                            for i in range(self.args.format_objects + 1)]
                    for key in keys:
                        self.fast.link(self.bucket, original, key)
                    self.objects = {label: (keys, size)}
                    log(f"7. formats (+{self.args.latency_ms:g} ms per request): {name}, {label}")
                    try:
                        r = self.handler_latency(name, cmd, cwd, env, rss=True)[label]
                    except RuntimeError as e:
                        r = {"error": str(e)[:300]}
                    r["object_bytes"] = size
                    res[name][label] = r
        finally:
            self.objects = saved
            self.proxy.set_delay(0)
        self.results["formats"] = res

    # -- 8. thumbnails -------------------------------------------------------
    def thumbnail(self) -> None:
        """gdal-lambda, warm, on the COGs of part 1 (their smallest overview is one uncompressed
        512-pixel tile: 262,144 bytes to read) without and with a PNG thumbnail, without and
        with the latency: the extra requests (its tiles' GET, its PUT), bytes and time."""
        res: dict = {}
        for delay in (0, self.args.latency_ms):
            self.proxy.set_delay(delay)
            mode = res[f"{delay:g} ms"] = {}
            for variant, extra in (("no thumbnail", {}), ("PNG thumbnail", {"THUMBNAIL_FORMAT": "png"})):
                tag = f"thumbnail-{delay:g}-{variant.split()[0].lower()}"
                self.renew(tag)
                cmd, cwd, env = self.handlers(tag)[RUST]
                log(f"8. thumbnails (+{delay:g} ms per request): {variant}")
                mode[variant] = self.handler_latency(RUST, cmd, cwd, {**env, **extra})
        self.proxy.set_delay(0)
        self.results["thumbnail"] = res


def make_format_samples(work: Path) -> dict[str, Path]:
    """A typical small file of each format, made by Debian's GDAL and h5py: a 3-band 600x400
    scene in JPEG 2000, the same as 3 netCDF-4 variables, a float grid as netCDF classic, HDF4
    and GRIB 2, a CF-like HDF5 file, and COGs in ZSTD, WebP and LERC_ZSTD."""
    import h5py
    import numpy as np
    work.mkdir(parents=True, exist_ok=True)
    scene, grid = work / "scene.tif", work / "grid.tif"
    subprocess.run(["gdal_create", "-q", "-outsize", "600", "400", "-bands", "3", "-burn", "40", "-burn", "90",
                    "-burn", "160", "-a_srs", "EPSG:32632", "-a_ullr", "400000", "5200000", "406000", "5196000",
                    str(scene)], check=True)
    subprocess.run(["gdal_create", "-q", "-outsize", "360", "180", "-ot", "Float32", "-burn", "273",
                    "-a_srs", "EPSG:4326", "-a_ullr", "-180", "90", "180", "-90", str(grid)], check=True)
    out = {}
    for label, src, name, args in (
        ("JPEG 2000", scene, "scene.jp2", ["-of", "JP2OpenJPEG"]),
        ("netCDF-4, 3 variables", scene, "scene.nc", ["-of", "netCDF", "-co", "FORMAT=NC4"]),
        ("netCDF classic", grid, "grid.nc", ["-of", "netCDF"]),
        ("HDF4", grid, "grid.hdf", ["-of", "HDF4Image"]),
        ("GRIB 2", grid, "grid.grb2", ["-of", "GRIB"]),
        ("COG ZSTD", scene, "zstd.tif", ["-of", "COG", "-co", "COMPRESS=ZSTD"]),
        ("COG WebP", scene, "webp.tif", ["-of", "COG", "-co", "COMPRESS=WEBP"]),
        ("COG LERC_ZSTD", grid, "lerc.tif", ["-of", "COG", "-co", "COMPRESS=LERC_ZSTD"]),
    ):
        out[label] = work / name
        subprocess.run(["gdal_translate", "-q", *args, str(src), str(out[label])], check=True)
    out["HDF5"] = work / "grid.h5"
    with h5py.File(out["HDF5"], "w") as f:
        lat = f.create_dataset("lat", data=np.linspace(89.5, -89.5, 180))
        lon = f.create_dataset("lon", data=np.linspace(-179.5, 179.5, 360))
        t = f.create_dataset("temperature", data=np.full((180, 360), 273.0, dtype="f4"), chunks=(90, 90),
                             compression="gzip")
        t.attrs["units"] = "K"
        lat.make_scale("lat")
        lon.make_scale("lon")
        t.dims[0].attach_scale(lat)
        t.dims[1].attach_scale(lon)
    for p in work.glob("*.aux.xml"):
        p.unlink()
    return out


def host_arch() -> str:
    return {"x86_64": "x86_64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def received_at(out: dict) -> int:
    """The handler's own receipt time, from the trivial functions' responses."""
    if "received_at_ns" in out:
        return int(out["received_at_ns"])
    if "context" in out and "received_at_ns" in out["context"]:
        return int(out["context"]["received_at_ns"])
    raise RuntimeError(f"no receipt time in {str(out)[:200]}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Defaults of the full run; --quick has its own (QUICK) where an option is not given.
    p.add_argument("--objects", type=int, help="measured objects per size (default 20)")
    p.add_argument("--latency-ms", type=float, default=15,
                   help="S3's time to first byte added to each request in the latency runs (default 15)")
    p.add_argument("--range-reads", type=int, help="ranged GETs per size and server in part 0 (default 10)")
    p.add_argument("--cold-runs", type=int, help="default 20")
    p.add_argument("--runner-runs", type=int, help="default 20")
    p.add_argument("--burst", type=int, help="small objects in the throughput burst (default 1000)")
    p.add_argument("--parses", type=int, help="parses each way in part 6 (default 500)")
    p.add_argument("--format-objects", type=int, help="measured objects per format in part 7 (default 10)")
    p.add_argument("--concurrency", type=int, nargs="*",
                   help="gdal-lambda MAX_CONCURRENCY values for the scaling runs (default 1 2 4 8 10)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: files of 1, 16 and 64 MB (1024, 4096 and 8192 pixels square), fewer samples (QUICK)")
    p.add_argument("--only", nargs="*", choices=PARTS)
    p.add_argument("--gdal-lambda"), p.add_argument("--run-lambda"), p.add_argument("--echo-function")
    p.add_argument("--fast-s3", default=str(ROOT / "target" / "bench-tools" / "release" / "fast-s3"))
    # A smoke run's figures never replace the full run's, which docs/benchmarks.md quotes.
    p.add_argument("--out", help="results directory (default bench/results; target/bench-quick for --quick)")
    p.add_argument("--plot", help="latency plot (default docs/img/benchmarks-latency.png; in --out for --quick)")
    args = p.parse_args()
    args.out = Path(args.out or (ROOT / "target" / "bench-quick" if args.quick else ROOT / "bench" / "results"))
    args.plot = Path(args.plot or (args.out / "latency.png" if args.quick
                                   else ROOT / "docs" / "img" / "benchmarks-latency.png"))
    for option, value in (QUICK if args.quick else FULL).items():
        if getattr(args, option) is None:
            setattr(args, option, value)
    only = set(args.only or PARTS)
    b = Bench(args)
    try:
        if only - {"runner"}:
            b.prepare()
        for part, run in (("s3", b.range_reads), ("metadata", b.metadata), ("cold", b.cold_start),
                          ("runner", b.runner), ("throughput", b.throughput), ("worker", b.worker),
                          ("formats", b.formats), ("thumbnail", b.thumbnail)):
            if part in only:
                run()
    finally:
        b.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(b.results, indent=1, default=str))
    text = report(b.results, args.plot if "metadata" in only else None)
    (args.out / "latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
