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
import platform
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "bench" / "functions"
MOTO = ROOT / ".venv" / "bin" / "moto_server"
PY = sys.executable  # the bench venv: GDAL bindings, rasterio, rio-stac, awslambdaric
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


# ---------------------------------------------------------------- local AWS

class Moto:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        req = urllib.request.Request(self.endpoint + "/moto-api/config", method="POST",
                                     data=json.dumps({"lambda": {"use_docker": False}}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


class CountingProxy:
    """TCP proxy to moto that records request lines (with Range) and bytes sent back."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.bytes_down = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.requests, self.bytes_down = [], 0

    def snapshot(self) -> tuple[int, int]:
        """Read requests (a handler's Item PUT is not counted) and bytes sent back."""
        with self.lock:
            reads = sum(1 for r in self.requests if r.startswith(("GET ", "HEAD")))
            return reads, self.bytes_down

    def _accept(self) -> None:
        while True:
            client, _ = self.sock.accept()
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        server = socket.create_connection(("127.0.0.1", self.upstream))

        def up() -> None:
            f = client.makefile("rb")
            try:
                for line in f:
                    if line[:4] in (b"GET ", b"HEAD", b"PUT ", b"POST"):
                        with self.lock:
                            self.requests.append(line.decode("latin1").strip())
                    server.sendall(line)
            except OSError:
                pass
            finally:
                try:
                    server.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        threading.Thread(target=up, daemon=True).start()
        try:
            while data := server.recv(65536):
                with self.lock:
                    self.bytes_down += len(data)
                client.sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            server.close()


class RuntimeAPI:
    """A minimal Lambda Runtime API (2018-06-01) that serves queued events and
    timestamps what the runtime client does, for Rust and Python alike."""

    def __init__(self) -> None:
        self.events: queue.Queue = queue.Queue()
        self.done: dict[str, tuple[int, int, bytes, bool]] = {}
        self.delivered: dict[str, int] = {}
        self.first_next_ns: int | None = None
        self.cond = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _reply(self, code: int, body: bytes = b"{}", headers: dict | None = None) -> None:
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    return self._reply(404)
                with api.cond:
                    if api.first_next_ns is None:
                        api.first_next_ns = time.perf_counter_ns()
                        api.cond.notify_all()
                rid, payload = api.events.get()
                api.delivered[rid] = time.perf_counter_ns()
                self._reply(200, payload, {
                    "Lambda-Runtime-Aws-Request-Id": rid,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 900_000),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                    "Content-Type": "application/json"})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.split("/")
                if "invocation" in parts and parts[-1] in ("response", "error"):
                    rid = parts[-2]
                    with api.cond:
                        api.done[rid] = (api.delivered.get(rid, 0), time.perf_counter_ns(), body, parts[-1] == "error")
                        api.cond.notify_all()
                    return self._reply(202)
                if self.path.endswith("/init/error"):
                    with api.cond:
                        api.done["init"] = (0, time.perf_counter_ns(), body, True)
                        api.cond.notify_all()
                    return self._reply(202)
                self._reply(404)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # a killed runtime resets its connection
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def submit(self, payload: dict) -> str:
        rid = str(uuid.uuid4())
        self.events.put((rid, json.dumps(payload).encode()))
        return rid

    def wait(self, rid: str, proc: subprocess.Popen | None = None, timeout: float = 900) -> tuple[int, int, bytes, bool]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while rid not in self.done and "init" not in self.done:
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"the runtime exited ({proc.returncode}) before answering {rid}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no response for {rid} in {timeout} s")
                self.cond.wait(0.2)
        if "init" in self.done:
            raise RuntimeError(f"init error: {self.done['init'][2][:300]!r}")
        return self.done[rid]

    def wait_first_next(self, timeout: float = 60) -> int:
        with self.cond:
            if not self.cond.wait_for(lambda: self.first_next_ns is not None, timeout):
                raise RuntimeError("the runtime never asked for an event")
        return self.first_next_ns  # type: ignore[return-value]

    def stop(self) -> None:
        self.server.shutdown()


def reap(proc: subprocess.Popen) -> int:
    """Kill a runtime process and return its peak RSS in KiB.

    Read from /proc (VmHWM, the high-water mark of the process' own address
    space): wait4's ru_maxrss also counts the forking parent's pages."""
    if proc.poll() is not None:
        return 0
    hwm = 0
    try:
        for line in open(f"/proc/{proc.pid}/status"):
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        pass
    proc.kill()
    proc.wait()
    return hwm


# ------------------------------------------------------------------ data

def s3_event(bucket: str, keys: list[str], size: int) -> dict:
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:BENCH"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "B", "x-amz-id-2": "B"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "bench",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "B"}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": urllib.parse.quote_plus(k, safe="/"), "size": size, "eTag": "e", "sequencer": "0"}}}
        for k in keys]}


def make_cog(work: Path, name: str, px: int) -> Path:
    src, out = work / f"{name}.src.tif", work / f"{name}.tif"
    right, bottom = 500000 + px * 10, 5000000 - px * 10
    subprocess.run(["gdal_create", "-q", "-of", "GTiff", "-outsize", str(px), str(px), "-bands", "1", "-ot", "Byte",
                    "-burn", "1", "-a_srs", "EPSG:32633", "-a_ullr", "500000", "5000000", str(right), str(bottom),
                    "-co", "TILED=YES", "-co", "SPARSE_OK=NO", str(src)], check=True)
    subprocess.run(["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=NONE", "-co", "BLOCKSIZE=512",
                    "-co", "OVERVIEW_RESAMPLING=NEAREST", str(src), str(out)], check=True)
    src.unlink()
    return out


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


def dist(values: list[float]) -> dict:
    return {"p50": statistics.median(values), "p95": pct(values, 95), "min": min(values), "max": max(values),
            "n": len(values), "values": values}


def summary(lat: list[float], reqs: list[int], bts: list[int]) -> dict:
    return {"latency_ms": dist(lat), "requests": statistics.median(reqs), "bytes": statistics.median(bts),
            "max_requests": max(reqs), "max_bytes": max(bts)}


def machine() -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    gdal = subprocess.run(["gdal-config", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(mem) / 2**20, 1),
            "kernel": platform.release(), "os": platform.platform(), "gdal": gdal,
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------- report

def report(results: dict, plot: Path | None) -> str:
    lines = []
    m = results["machine"]
    lines.append(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; "
                 f"GDAL {m['gdal']}; Python {m['python']}; {m['date']}.\n")
    if "metadata" in results:
        lines.append("### 1. Metadata of one object (moto S3, warm)\n")
        lines.append("| tool | size | p50 ms | p95 ms | requests | bytes fetched | vs gdal-lambda (p50) |")
        lines.append("|---|---|---:|---:|---:|---:|---:|")
        md = results["metadata"]
        ref = md.get("gdal-lambda (Rust)", {})
        for tool, per_size in md.items():
            for size, s in per_size.items():
                p50 = s["latency_ms"]["p50"]
                ratio = p50 / ref[size]["latency_ms"]["p50"] if size in ref else float("nan")
                lines.append(f"| {tool} | {size} | {p50:.1f} | {s['latency_ms']['p95']:.1f} | {s['requests']:g} | "
                             f"{s['bytes']:,.0f} | {ratio:.1f}x |")
        lines.append("")
    if "cold_start" in results:
        lines.append("### 2. Cold start (spawn to first GET /next) and peak RSS for one invocation\n")
        lines.append("| handler | start p50 ms | start p95 ms | peak RSS p50 MiB |")
        lines.append("|---|---:|---:|---:|")
        for name, r in results["cold_start"].items():
            lines.append(f"| {name} | {r['start_ms']['p50']:.1f} | {r['start_ms']['p95']:.1f} | "
                         f"{r['peak_rss_mib']['p50']:.1f} |")
        cs = results["cold_start"]
        if len(cs) == 2:
            a, b = (cs[k]["start_ms"]["p50"] for k in cs)
            lines.append(f"\nRatio: Python+GDAL / Rust = {b / a:.1f}x\n")
    if "runner" in results:
        lines.append("### 3. Runner overhead (code and payload on moto S3)\n")
        lines.append("| function | run → handler p50 ms | p95 | run total p50 ms | direct start → handler p50 ms | overhead ms |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for name, r in results["runner"].items():
            lines.append(f"| {name} | {r['run_to_handler_ms']['p50']:.1f} | {r['run_to_handler_ms']['p95']:.1f} | "
                         f"{r['run_total_ms']['p50']:.1f} | {r['direct_to_handler_ms']['p50']:.1f} | "
                         f"{r['overhead_ms']:.1f} |")
        lines.append("")
    if "throughput" in results:
        lines.append("### 4. Throughput through one handler process (events of 10 records)\n")
        lines.append("| handler | objects | objects/s | seconds |")
        lines.append("|---|---|---:|---:|")
        for name, rates in results["throughput"].items():
            for label, r in rates.items():
                lines.append(f"| {name} | {label} | {r['objects_per_s']:.1f} | {r['seconds']:.2f} |")
        lines.append("")
    if plot and "metadata" in results:
        draw(results["metadata"], plot)
        lines.append(f"![latency distributions]({os.path.relpath(plot, ROOT / 'docs')})\n")
    return "\n".join(lines)


def draw(md: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = list(next(iter(md.values())).keys())
    fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4.5), sharey=True)
    for ax, size in zip(axes, sizes):
        tools = [t for t in md if size in md[t]]
        ax.boxplot([md[t][size]["latency_ms"]["values"] for t in tools], showfliers=True)
        ax.set_xticks(range(1, len(tools) + 1), [t.replace(" (", "\n(") for t in tools], fontsize=7)
        ax.set_yscale("log")
        ax.set_title(f"{size} COG on moto S3")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("latency per object (ms, log scale)")
    fig.suptitle("Raster metadata latency per object")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


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
