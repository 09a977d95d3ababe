#!/usr/bin/env python3
"""Cold start of the two Lambda container images, side by side in one environment.

gdal-lambda's image (localhost/stratus/gdal-lambda:test from `just test-images`: the Rust
handler with its lean static GDAL) and its peer built the way Python GDAL functions are built
(bench/images/python-gdal: Debian's GDAL bindings, awslambdaric, boto3, the handler
bench/functions/py_gdal_handler.py), both on the same local Debian base. Each image's file
system is exported once and each handler is started from it with chroot, as the image's user,
in its working directory, with the image's environment, on the host's network: what is timed
is the handler's own start, not a container runtime's (nor this process's fork: see
Handler.spawn). Every run gets a fresh Runtime API
(harness.RuntimeAPI) with the run's event already queued, as Lambda has it for a cold start;
the images take turns (A B B A …) so both see the same machine state.

    measure(runs, env, event_for, *, image_env=None) -> dict

  runs       runs per image
  env        the function's configuration, for both handlers: credentials, region, S3
             endpoints (127.0.0.1 works: same network), GDAL's /vsis3/ settings. Laid over
             the image's own ENV and Lambda's variables, as Lambda does; host-only variables
             (PATH, HOME, VIRTUAL_ENV, …) are ignored, so a caller may pass its environment.
  event_for  run number (0-based) -> the event of that run's first invocation (the same for
             both images); every record of the response must be "processed".
  image_env  {image name: {var: value}}, per image (e.g. its own OUTPUT_URL).

Returns {image name: result} for "gdal-lambda" and "python-gdal", each
  {"image": ref, "size_mb": engine's uncompressed size, "handler": version line,
   "gdal": version, "python": version or None,
   "start_ms": dist (exec of the image's command -> first GET /runtime/invocation/next),
   "first_invocation_ms": dist (event delivered -> response posted),
   "total_ms": dist (exec -> response posted: the cold invocation),
   "peak_rss_mib": dist (VmHWM after the response)}
with dist() from harness ({"p50", "p95", "min", "max", "n", "values"}).

Needs root (chroot, mount) and the Docker engine of `just test-images`
(scripts/images/engine.sh). Standalone, with its own moto and a small COG:
    .venv/bin/python bench/image_cold.py --runs 5
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, Mapping

from harness import REGION, ROOT, Moto, RuntimeAPI, dist, log, make_cog, reap, s3_event

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
BASE = f"localhost/stratus-base:bookworm-{ARCH}"  # gdal-lambda's base in `just test-images`
GDAL_LAMBDA = "localhost/stratus/gdal-lambda:test"
PEER = "localhost/stratus/python-gdal:bench"
PEER_DOCKERFILE = "bench/images/python-gdal/Dockerfile"
# What each image is, printed as JSON by a command run in it. gdal-lambda cannot tell its GDAL's
# version; GDAL's HTTP user agent (GDAL/x.y.z) is compiled into the binary.
PROBES = {
    "gdal-lambda": ["/bin/sh", "-c", 'v=$(/var/task/bootstrap --version); '
                    'g=$(grep -ao "GDAL/[0-9.]*[0-9]" /var/task/bootstrap | head -n1); '
                    'printf \'{"handler": "%s", "gdal": "%s", "python": null}\' "$v" "${g#GDAL/}"'],
    "python-gdal": ["/var/lang/bin/python", "-c", "import json, platform, importlib.metadata as m; "
                    "from osgeo import gdal; print(json.dumps({'handler': 'awslambdaric ' + "
                    "m.version('awslambdaric') + ', boto3 ' + m.version('boto3'), "
                    "'gdal': gdal.__version__, 'python': platform.python_version()}))"],
}
METRICS = ("start_ms", "first_invocation_ms", "total_ms", "peak_rss_mib")
# Lambda's own variables for a function (runtime clients read them at start).
LAMBDA_ENV = {"AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
              "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
              "AWS_LAMBDA_LOG_STREAM_NAME": "bench", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
              "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "TZ": ":UTC"}
# The host's, not the function's: they would replace the image's own.
HOST_ONLY = {"PATH", "HOME", "PWD", "OLDPWD", "SHELL", "USER", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME",
             "LD_LIBRARY_PATH", "GDAL_DATA", "PROJ_DATA", "PROJ_LIB", "SSL_CERT_FILE", "DOCKER_HOST"}


class Engine:
    """The Docker engine and CLI of `just test-images` (scripts/images/engine.sh)."""

    def __init__(self) -> None:
        out = subprocess.run([str(ROOT / "scripts/images/engine.sh")], capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"image_cold: no Docker engine: {out.stderr.strip()}")
        # `export DOCKER_HOST=… DOCKER_CLI=…`, shell-quoted
        found = dict(kv.split("=", 1) for kv in shlex.split(out.stdout)[1:])
        self.cli, self.env = found["DOCKER_CLI"], {**os.environ, "DOCKER_HOST": found["DOCKER_HOST"]}

    def __call__(self, *args: str) -> str:
        return subprocess.run([self.cli, *args], env=self.env, check=True, capture_output=True, text=True).stdout.strip()

    def has(self, ref: str) -> bool:
        return subprocess.run([self.cli, "image", "inspect", ref], env=self.env, capture_output=True).returncode == 0

    def build_peer(self) -> None:
        if not self.has(BASE):
            sys.exit(f"image_cold: the stand-in base {BASE} is missing: run `just test-images` first")
        # As test.sh builds our images: the local base, the host's network for apt and pip, the CA
        # bundle as the build secret (a TLS-inspecting proxy). The engine caches it after the first time.
        ca = Path("/etc/ssl/certs/ca-certificates.crt")
        secret = ["--secret", f"id=ca,src={ca}"] if ca.is_file() else []
        out = subprocess.run([self.cli, "build", "--quiet", "--network", "host", *secret, "--build-arg",
                              f"BASE_IMAGE={BASE}", "-f", PEER_DOCKERFILE, "-t", PEER, "."], cwd=ROOT,
                             env={**self.env, "DOCKER_BUILDKIT": "1"}, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"image_cold: building {PEER} failed:\n{out.stderr[-3000:]}")

    def export(self, ref: str, dest: Path) -> None:
        cid = self("create", ref)
        try:
            exp = subprocess.Popen([self.cli, "export", cid], env=self.env, stdout=subprocess.PIPE)
            # Numeric owners: the image's uids, not the host's names for them.
            subprocess.run(["tar", "-C", str(dest), "--numeric-owner", "-xf", "-"], stdin=exp.stdout, check=True)
            exp.stdout.close()  # type: ignore[union-attr]
            if exp.wait():
                raise RuntimeError(f"docker export of {ref} failed")
        finally:
            self("rm", cid)


def _mounts_under(path: Path) -> list[str]:
    points = (line.split()[4] for line in open("/proc/self/mountinfo"))
    return [m for m in points if m == str(path) or m.startswith(f"{path}/")]


@contextlib.contextmanager
def rootfs(engine: Engine, ref: str, work: Path) -> Iterator[Path]:
    """The image's file system, ready to chroot into: on a tmpfs (unpacking and removing hundreds
    of MB on a disk a CI run keeps busy takes tens of seconds; the files are in memory either
    way once written), with what a container gets besides its layers: /proc, /sys, and the
    host's /etc/hosts and resolv.conf for the host network. Unmounted afterwards, even on
    failure."""
    root = Path(tempfile.mkdtemp(prefix="rootfs-", dir=work))
    mounted: list[Path] = []

    def mount(fs: str, opts: str, point: Path) -> None:
        point.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", fs, "-o", opts, fs, str(point)], check=True)
        mounted.append(point)

    try:
        mount("tmpfs", "mode=0755", root)  # it becomes /, which the image's non-root user must traverse
        engine.export(ref, root)
        for name, (major, minor) in {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
                                     "urandom": (1, 9)}.items():
            dev = root / "dev" / name
            if not dev.exists():  # docker export carries them, but not for every base
                dev.parent.mkdir(exist_ok=True)
                os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
                dev.chmod(0o666)
        for name in ("hosts", "resolv.conf"):
            target = root / "etc" / name
            target.unlink(missing_ok=True)  # never write through a link out of the root
            shutil.copyfile(f"/etc/{name}", target)
        mount("proc", "nosuid,nodev,noexec", root / "proc")
        mount("sysfs", "ro,nosuid,nodev,noexec", root / "sys")
        yield root
    finally:
        for point in reversed(mounted):
            if subprocess.run(["umount", str(point)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(point)], capture_output=True)
        if left := _mounts_under(root):
            log(f"image_cold: still mounted: {left}")
        else:
            root.rmdir()


class Handler:
    """An image's handler, started by chroot into its exported file system."""

    def __init__(self, engine: Engine, name: str, ref: str, root: Path) -> None:
        cfg = json.loads(engine("image", "inspect", "-f", "{{json .Config}}", ref))
        self.name, self.ref, self.root = name, ref, root
        self.cmd = (cfg.get("Entrypoint") or []) + (cfg.get("Cmd") or [])
        self.env = dict(kv.split("=", 1) for kv in cfg.get("Env") or [])
        self.workdir = cfg.get("WorkingDir") or "/"
        user = (cfg.get("User") or "0").split(":")
        if not all(u.isdigit() for u in user):  # both images name numeric ids
            raise RuntimeError(f"{ref}: user {cfg['User']!r} is not numeric")
        self.uid, self.gid = int(user[0]), int(user[1] if len(user) > 1 else user[0])
        self.size_mb = int(engine("image", "inspect", "-f", "{{.Size}}", ref)) / 1e6

    def _enter(self) -> None:
        # In the child, between fork and exec; chroot first, while still root.
        os.chroot(self.root)
        os.chdir(self.workdir)
        os.setgroups([])
        os.setgid(self.gid)
        os.setuid(self.uid)

    def spawn(self, env: dict, out) -> tuple[subprocess.Popen, int]:
        """Starts the image's command; returns it and its start (perf_counter_ns). Forking this
        (large) Python process and the chroot are done first, by a shell in the image that then
        waits: the clock starts when it is told to exec the command (same pid, fresh VmHWM), so
        neither image's start includes the benchmark's own fork (~3 ms here, more in bench.py)."""
        gate = 'printf .; exec >&2; read -r go && exec "$@"'  # readiness on stdout, then the log
        proc = subprocess.Popen(["/bin/sh", "-c", gate, "sh", *self.cmd], env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=out, preexec_fn=self._enter)
        ready = proc.stdout.read(1)  # type: ignore[union-attr]
        proc.stdout.close()  # type: ignore[union-attr]
        if ready != b".":
            reap(proc)
            raise RuntimeError(f"{self.name}: the shell in the image did not start")
        t0 = time.perf_counter_ns()
        os.write(proc.stdin.fileno(), b"go\n")  # type: ignore[union-attr]
        proc.stdin.close()  # type: ignore[union-attr]
        return proc, t0

    def probe(self) -> dict:
        out = subprocess.run(PROBES[self.name], env=self.env, capture_output=True, text=True,
                             preexec_fn=self._enter, check=True).stdout
        return json.loads(out)


def _check(name: str, body: bytes, is_error: bool) -> None:
    try:
        records = json.loads(body)["records"]
        ok = not is_error and records and all(r.get("status") == "processed" for r in records)
    except (ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise RuntimeError(f"{name} did not process the event: {body[:500]!r}")


def measure(runs: int, env: Mapping[str, str], event_for: Callable[[int], dict], *,
            image_env: Mapping[str, Mapping[str, str]] | None = None) -> dict:
    """Cold start of both images, `runs` times each (see the module's docstring)."""
    if os.geteuid() != 0:
        sys.exit("image_cold: chroot and mount need root")
    engine = Engine()
    if not engine.has(GDAL_LAMBDA):
        sys.exit(f"image_cold: {GDAL_LAMBDA} is missing: run `just test-images` first")
    log(f"image_cold: building {PEER} ({PEER_DOCKERFILE})")
    engine.build_peer()
    fn_env = {k: v for k, v in env.items() if k not in HOST_ONLY}
    work = Path(tempfile.mkdtemp(prefix="stratus-image-cold-", dir="/var/tmp"))
    try:
        with contextlib.ExitStack() as stack:
            handlers = []
            for name, ref in (("gdal-lambda", GDAL_LAMBDA), ("python-gdal", PEER)):
                log(f"image_cold: exporting {ref}")
                handlers.append(Handler(engine, name, ref, stack.enter_context(rootfs(engine, ref, work))))
            out = {h.name: {"image": h.ref, "size_mb": round(h.size_mb, 1), **h.probe()} for h in handlers}
            samples: dict = {h.name: {k: [] for k in METRICS} for h in handlers}
            log(f"image_cold: {runs} cold starts of each image")
            for i in range(runs):
                event = event_for(i)
                for h in (handlers if i % 2 == 0 else handlers[::-1]):
                    for k, v in _cold_start(h, event, fn_env, image_env, work).items():
                        samples[h.name][k].append(v)
    finally:
        if left := _mounts_under(work):
            log(f"image_cold: still mounted, {work} left in place: {left}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for name, s in samples.items():
        out[name].update({k: dist(v) for k, v in s.items()})
    return out


def _cold_start(h: Handler, event: dict, fn_env: dict, image_env: Mapping | None, work: Path) -> dict:
    """One cold start of h: a fresh Runtime API with the event queued, the handler spawned."""
    api = RuntimeAPI()
    rid = api.submit(event)  # waiting for the first /next, as a cold start's event is
    env = {**h.env, **LAMBDA_ENV, **fn_env, **(image_env or {}).get(h.name, {}), "AWS_LAMBDA_RUNTIME_API": api.address}
    log_path = work / f"{h.name}.log"
    with open(log_path, "wb") as log_file:
        proc, t0 = h.spawn(env, log_file)
        try:
            delivered, responded, body, is_error = api.wait(rid, proc, timeout=120)
            rss = reap(proc) / 1024
            _check(h.name, body, is_error)
        except RuntimeError as e:
            raise RuntimeError(f"{e}\n{h.name}'s output:\n{log_path.read_text(errors='replace')[-3000:]}") from None
        finally:
            reap(proc)  # a no-op unless something failed: no handler outlives the run
            api.stop()
    return {"start_ms": (api.first_next_ns - t0) / 1e6, "first_invocation_ms": (responded - delivered) / 1e6,
            "total_ms": (responded - t0) / 1e6, "peak_rss_mib": rss}


# ------------------------------------------------------------- standalone

def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=20, help="cold starts of each image (default 20)")
    p.add_argument("--json", action="store_true", help="print measure()'s result as JSON")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unmount and clean up on kill too
    t0 = time.monotonic()
    moto = Moto()
    work = Path(tempfile.mkdtemp(prefix="stratus-image-cold-data-"))
    try:
        env = {"AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
               "AWS_EC2_METADATA_DISABLED": "true",
               # GDAL's /vsis3/ (the Python handler) does not read AWS_ENDPOINT_URL
               "AWS_S3_ENDPOINT": f"127.0.0.1:{moto.port}", "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
               "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
        os.environ.update(env)
        import boto3  # after the environment points at moto
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="cold")
        cog = make_cog(work, "scene", 1024)
        size = cog.stat().st_size
        for i in range(args.runs):  # an object per run, as uploads come
            s3.upload_file(str(cog), "cold", f"rasters/scene-{i:03}.tif")
        res = measure(args.runs, env, lambda i: s3_event("cold", [f"rasters/scene-{i:03}.tif"], size),
                      image_env={n: {"OUTPUT_URL": f"s3://cold/out/{n}/"} for n in ("gdal-lambda", "python-gdal")})
        for name in res:  # each handler wrote its document for every run
            keys = s3.list_objects_v2(Bucket="cold", Prefix=f"out/{name}/").get("KeyCount", 0)
            if keys != args.runs:
                raise RuntimeError(f"{name} wrote {keys} documents for {args.runs} runs")
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(res, indent=1))
        return
    print(f"cold start in the images, {args.runs} runs each ({size / 1e6:.1f} MB COG on moto S3; "
          f"{time.monotonic() - t0:.0f} s)")
    for name, r in res.items():
        print(f"\n{name}: {r['image']}, {r['size_mb']:.0f} MB; {r['handler']}; GDAL {r['gdal']}"
              + (f"; Python {r['python']}" if r["python"] else ""))
        for k in ("start_ms", "first_invocation_ms", "total_ms", "peak_rss_mib"):
            print(f"  {k:<20} p50 {r[k]['p50']:8.1f}  p95 {r[k]['p95']:8.1f}  min {r[k]['min']:8.1f}  "
                  f"max {r[k]['max']:8.1f}")
    g, py = res["gdal-lambda"], res["python-gdal"]
    print(f"\nstart: gdal-lambda {py['start_ms']['p50'] / g['start_ms']['p50']:.1f}x faster (medians); "
          f"peak RSS {g['peak_rss_mib']['p50']:.1f} MiB vs {py['peak_rss_mib']['p50']:.1f} MiB")


if __name__ == "__main__":
    main()
