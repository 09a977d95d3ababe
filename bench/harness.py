"""The benchmark's local world: moto and a fast S3 on loopback, the counting (and
latency-injecting) proxy in front of S3, a Lambda Runtime API that timestamps what a
runtime client does, and the statistics every part reports."""
from __future__ import annotations

import base64
import json
import os
import platform
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOTO = ROOT / ".venv" / "bin" / "moto_server"
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


class FastS3:
    """The benchmark's S3 (bench/fast-s3: s3s-fs served with TCP_NODELAY): objects are files,
    so a ranged GET costs the same at any object size (moto reads the whole object for each),
    and copies are hard links, so 21 keys of a 1.4 GB COG take no more disk than one."""

    def __init__(self, binary: Path, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([str(binary), str(root)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.endpoint = self.proc.stdout.readline().strip()  # type: ignore[union-attr]
        if not self.endpoint.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"{binary} did not start (printed {self.endpoint!r})")
        self.port = int(self.endpoint.rsplit(":", 1)[1])

    def link(self, bucket: str, src: str, dst: str) -> None:
        """A copy of object src as dst: a hard link to its file and a copy of the ETag s3s-fs
        stored at upload (s3s-fs 0.14's sidecar files, named from base64url(bucket and key));
        without the sidecar, every GET of dst would hash the whole file."""
        target = self.root / bucket / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(self.root / bucket / src, target)
        for kind in ("internal", "metadata"):
            sidecar = self._sidecar(bucket, src, kind)
            if sidecar.exists():
                shutil.copyfile(sidecar, self._sidecar(bucket, dst, kind))

    def _sidecar(self, bucket: str, key: str, kind: str) -> Path:
        b64 = lambda v: base64.urlsafe_b64encode(v.encode()).decode().rstrip("=")  # noqa: E731
        return self.root / f".bucket-{b64(bucket)}.object-{b64(key)}.{kind}.json"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


class CountingProxy:
    """TCP proxy to S3 that records request lines (with Range) and bytes sent back, and can
    hold each request for a fixed delay before passing it on: S3's in-region time to first
    byte, which loopback lacks."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.delay_s = 0.0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.arrivals: list[int] = []  # perf_counter_ns of each request's arrival, before the delay
        self.bytes_down = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def set_delay(self, ms: float) -> None:
        self.delay_s = ms / 1000

    def reset(self) -> None:
        with self.lock:
            self.requests, self.arrivals, self.bytes_down = [], [], 0

    def snapshot(self) -> tuple[int, int, int, int]:
        """Reads (GET, HEAD), writes (PUT, POST: a handler's Item), bytes sent back, and
        sequential round trips: requests sent while an earlier one was still held (gdal-lambda's
        HEAD beside its first GET) share that one's round trip."""
        with self.lock:
            reads = sum(1 for r in self.requests if r.startswith(("GET ", "HEAD")))
            return reads, len(self.requests) - reads, self.bytes_down, self._round_trips()

    def _round_trips(self) -> int:
        trips, started = 0, None
        for t in sorted(self.arrivals):
            if started is None or self.delay_s == 0 or t - started >= self.delay_s * 1e9:
                trips, started = trips + 1, t
        return trips

    def phases(self, start_ns: int, end_ns: int) -> dict[str, float]:
        """Where one invocation's time went beside S3's latency, seen from outside: until its
        first request, between requests, and after its last (the latency taken out of each gap,
        so what remains is the handler's own work and the server's)."""
        with self.lock:
            t = sorted(self.arrivals)
            trips = self._round_trips()
        if not t:
            return {"before": (end_ns - start_ns) / 1e6, "between": 0.0, "after": 0.0}
        delay_ns = self.delay_s * 1e9
        return {"before": (t[0] - start_ns) / 1e6,
                "between": (t[-1] - t[0] - delay_ns * (trips - 1)) / 1e6,
                "after": (end_ns - t[-1] - delay_ns) / 1e6}

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:  # closed by close()
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        server = socket.create_connection(("127.0.0.1", self.upstream))
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def up() -> None:
            try:
                self._forward_requests(client.makefile("rb"), server)
            except (OSError, ValueError):
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

    def _forward_requests(self, r, server: socket.socket) -> None:
        """Pass HTTP/1.1 requests on one by one, framed by their headers (a body is passed
        whole, never searched for request lines): record each, hold it for the delay."""
        while line := r.readline():
            with self.lock:
                self.requests.append(line.decode("latin1").strip())
                self.arrivals.append(time.perf_counter_ns())
            if self.delay_s:
                time.sleep(self.delay_s)
            server.sendall(line)
            length, chunked = 0, False
            while (header := r.readline()) not in (b"\r\n", b"\n", b""):
                server.sendall(header)
                name, _, value = header.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
            server.sendall(header)
            if chunked:
                while size := r.readline():
                    server.sendall(size)
                    n = int(size.split(b";")[0], 16)
                    if n == 0:  # trailers, then the blank line
                        while (trailer := r.readline()) not in (b"\r\n", b"\n", b""):
                            server.sendall(trailer)
                        server.sendall(trailer)
                        break
                    server.sendall(r.read(n + 2))  # the chunk and its CRLF
            while length > 0:
                data = r.read1(min(length, 65536))
                if not data:
                    return
                server.sendall(data)
                length -= len(data)

    def close(self) -> None:
        self.sock.close()


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

            def setup(self):
                super().setup()
                # Headers and body leave in two writes: without TCP_NODELAY the body waits for
                # the client's delayed ACK (40 ms), which would be counted as the handler's time.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

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


def children_hwm(pid: int) -> int:
    """The largest peak RSS (VmHWM, KiB) among the live children of `pid` (gdal-lambda's parse
    workers), 0 without any."""
    best = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        try:
            children = open(f"/proc/{pid}/task/{task}/children").read().split()
        except OSError:
            continue
        for child in children:
            try:
                for line in open(f"/proc/{child}/status"):
                    if line.startswith("VmHWM:"):
                        best = max(best, int(line.split()[1]))
            except OSError:
                pass
    return best


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


def dist(values: list[float]) -> dict:
    return {"p50": statistics.median(values), "p95": pct(values, 95), "min": min(values), "max": max(values),
            "n": len(values), "values": values}


def summary(samples: list[tuple[float, int, int, int, int]]) -> dict:
    """Per-object samples of (latency ms, reads, writes, bytes fetched, round trips) from the proxy."""
    lat, reads, writes, bts, trips = zip(*samples)
    return {"latency_ms": dist(list(lat)), "reads": statistics.median(reads), "writes": statistics.median(writes),
            "requests": statistics.median(r + w for r, w in zip(reads, writes)), "bytes": statistics.median(bts),
            "round_trips": statistics.median(trips),
            "max_requests": max(r + w for r, w in zip(reads, writes)), "max_bytes": max(bts)}


def machine() -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    gdal = subprocess.run(["gdal-config", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(mem) / 2**20, 1),
            "kernel": platform.release(), "os": platform.platform(), "gdal": gdal,
            "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

