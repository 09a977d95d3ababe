#!/usr/bin/env bash
# `just test-images [ARCH]`: build the three images for ARCH (default: this machine's) from their
# Dockerfiles with a real Docker engine, as `just build` does (scripts/images/build.sh), push them
# to a real registry (Debian's docker-registry on loopback) as `just push` does (push.py) and as
# `terraform apply` does (modules/image-push/push.sh), read the manifests back over the registry
# API, and run the images against moto:
#  1. gdal-lambda: the image's command answers an S3 event delivered by run-lambda's Runtime API
#     (on the host, as Lambda would), reads the COG from moto S3 and writes its STAC Item;
#     then the image's own run-lambda runs it as a Batch job would (`run-lambda exec`);
#     then hostile uploads (a VRT pointing at a canary URL and /etc/passwd, a GeoTIFF whose CRS
#     names a grid file, 5,000 chained IFDs) are refused by the image's own GDAL;
#  2. run-lambda, one image per runtime: `run <function> <url>` runs a python3.13 function
#     registered in moto's Lambda (3.12+ syntax, a layer's python3.13 site-packages) on the
#     python3.13 image; the python3.11 image refuses it (exit 17) and, told to run it anyway,
#     meets its syntax error; the nodejs image runs a Node.js function; run-lambda, taken out of
#     an image, runs in an image with no libc at all;
#  3. container-image functions as Batch multi-container jobs: `run-lambda serve` and the
#     function's own image in one network namespace of their own (--network container:…), as the
#     job definition of lambda-batch-task runs them: gdal-lambda's image on an S3 event from moto,
#     and a Python function on the python3.13 base (its /lambda-entrypoint.sh and awslambdaric):
#     payload in and response out, a raised error's last line, a timeout, a function container
#     that exits without answering; then `run-lambda exec --image` and `run` on the function's
#     ARN with Docker here;
#  4. run-geolambda, python3.11 (bookworm) and python3.13 (trixie): `run` runs a function of that
#     runtime that reads the COG with rasterio (/vsis3/), and the GDAL/PROJ command line tools work.
# Last, the images' sizes as the registry stores them.
# Nothing is pulled: the pinned bases are replaced by local stand-ins (standins.sh): Debian
# bookworm (Python 3.11) and trixie (Python 3.13) in AWS's Lambda layout, and this machine's
# Node.js, for the runtimes run-lambda is built for here. The engine
# (engine.sh) keeps its images and build cache outside the checkout, so a second run, even from
# a fresh clone, compiles nothing it compiled before. Another ARCH (arm64 on x86_64) is
# cross-compiled in the build stage; only the final stages' RUNs and the checks run under qemu.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/images/lib.sh
# shellcheck source=scripts/lib/moto.sh
source scripts/lib/moto.sh

arch=${1:-$(host_arch)}
rust_triple "$arch" >/dev/null
py=$root/.venv/bin/python
t0=$SECONDS
step() { echo "== $* [$((SECONDS - t0)) s]"; }
fail() { echo "test-images: $*" >&2; exit 1; }

for tool in docker-registry debootstrap gdal_translate; do
  command -v "$tool" >/dev/null || fail "$tool is missing (just setup installs it)"
done

work=$(mktemp -d /var/tmp/stratus-test-images.XXXXXX)
pids=()
containers=()
cleanup() {
  local rc=$?
  ((${#containers[@]})) && "$docker" rm -f "${containers[@]}" >/dev/null 2>&1
  # The tags naming this run's registry (its port is gone after the run); the layers stay.
  if [[ -n ${registry:-} ]]; then
    "$docker" images --format '{{.Repository}}:{{.Tag}}' | grep "^$registry/" | xargs -r "$docker" rmi >/dev/null 2>&1 || true
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && { wait "$p" 2>/dev/null || true; }; done
  moto_stop
  rm -rf "$work"
  # The engine, if this run started it and nothing else holds it (its build cache stays).
  scripts/images/engine.sh release $$ || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Docker engine"
eval "$(scripts/images/engine.sh --lease $$)"
docker=$DOCKER_CLI
export DOCKER_HOST DOCKER_CLI
echo "   $("$docker" version --format 'client {{.Client.Version}}, engine {{.Server.Version}}') at $DOCKER_HOST"

step "registry (docker-registry on loopback)"
reg_port=$(free_port)
registry=127.0.0.1:$reg_port
cat >"$work/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $registry
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://$registry/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://$registry/v2/" >/dev/null || fail "the registry did not start: $(cat "$work/registry.log")"

step "stand-in bases ($arch)"
scripts/images/standins.sh "$arch"
base=localhost/stratus-base:bookworm-$arch
# The runtimes built here, each on its stand-in (images/runtimes holds AWS's bases).
{
  echo "run-lambda python3.11 localhost/stratus-lambda:python3.11-$arch"
  echo "run-lambda python3.13 localhost/stratus-lambda:python3.13-$arch"
  node_runtime=""
  for image in $("$docker" images --format '{{.Repository}}:{{.Tag}}' "localhost/stratus-lambda"); do
    [[ $image =~ :nodejs([0-9]+)-$arch$ ]] && node_runtime=nodejs${BASH_REMATCH[1]}.x \
      && echo "run-lambda $node_runtime $image"
  done
  echo "run-geolambda python3.11 $base"
  echo "run-geolambda python3.13 localhost/stratus-base:trixie-$arch"
} >"$work/runtimes"
sed 's/^/   /' "$work/runtimes"

step "building the images for linux/$arch (scripts/images/build.sh; its log while it runs: $work/build.log)"
export STRATUS_TFVARS=$work/images.auto.tfvars.json
ca=""
[[ -f /etc/ssl/certs/ca-certificates.crt ]] && ca=/etc/ssl/certs/ca-certificates.crt
STRATUS_IMAGE_ARCH=$arch STRATUS_CA_BUNDLE=$ca STRATUS_RUNTIMES_FILE=$work/runtimes \
  STRATUS_BUILD_ARGS="--network host --build-arg BASE_IMAGE=$base --build-arg RUST_IMAGE=localhost/stratus-rust:bookworm-$(host_arch)" \
  scripts/images/build.sh >"$work/build.log" 2>&1 || { tail -n 60 "$work/build.log"; fail "building the images failed"; }
grep '^build: ' "$work/build.log" | sed 's/^/   /'
image() { $py -c 'import json,sys; print(json.load(open(sys.argv[1]))["images"][sys.argv[2]])' "$STRATUS_TFVARS" "$1"; }
gdal_image=$(image gdal_lambda)
run_image=$(image run_lambda/python3.13)
run311_image=$(image run_lambda/python3.11)
node_image=""
[[ -n $node_runtime ]] && node_image=$(image "run_lambda/$node_runtime")
geo_image=$(image run_geolambda/python3.11)
geo313_image=$(image run_geolambda/python3.13)
# Fixed names for later recipes (`just bench-image-startup`): :test for this machine's architecture,
# :test-<arch> for another.
suffix=""
[[ $arch == "$(host_arch)" ]] || suffix=-$arch
"$docker" tag "$gdal_image" "localhost/stratus/gdal-lambda:test$suffix"
"$docker" tag "$run_image" "localhost/stratus/run-lambda:test$suffix"
"$docker" tag "$geo_image" "localhost/stratus/run-geolambda:test$suffix"

step "pushing to the registry (just push's code), and as terraform apply pushes"
STRATUS_REGISTRY=$registry $py scripts/images/push.py | sed 's/^/   /'
# The registry's own answer, read over its API: one image manifest of this architecture, whose
# digest is the one handed to Terraform.
$py - "$STRATUS_TFVARS" "$registry" "$arch" <<'PY'
import json, sys, urllib.request
tfvars, registry, arch = sys.argv[1:]
accept = ("application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json")
for key, uri in json.load(open(tfvars))["images"].items():
    repo, digest = uri.split("/", 1)[1].split("@")
    req = urllib.request.Request(f"http://{registry}/v2/{repo}/manifests/{digest}", headers={"Accept": accept})
    with urllib.request.urlopen(req) as r:
        manifest, served = json.loads(r.read()), r.headers["Docker-Content-Digest"]
    with urllib.request.urlopen(f"http://{registry}/v2/{repo}/blobs/{manifest['config']['digest']}") as r:
        config = json.loads(r.read())
    ok = (manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
          and (config["os"], config["architecture"]) == ("linux", arch) and served == digest)
    print(f"   {repo}: {manifest['mediaType']}, {config['os']}/{config['architecture']}, {served}")
    if not ok:
        sys.exit(f"test-images: the registry holds something else for {uri}")
PY
# terraform apply's push (modules/image-push/push.sh) against the same registry: it pushes, and
# it refuses an image index, which Lambda cannot run.
tf_push() { # <source image> <target image>
  CONTAINER_CLI=$docker ARCHITECTURE=$arch SOURCE_IMAGE=$1 TARGET_IMAGE=$2 REGISTRY=$registry \
    REGISTRY_USER=stratus REGISTRY_PASSWORD=unused bash terraform/modules/image-push/push.sh
}
tf_push "$gdal_image" "$registry/stratus/apply-gdal-lambda:${gdal_image##*:}" >"$work/tf-push.log" 2>&1 \
  || { cat "$work/tf-push.log"; fail "the image-push module's push failed"; }
"$docker" manifest create --insecure "$registry/stratus/index:multi" "$registry/stratus/apply-gdal-lambda:${gdal_image##*:}" >/dev/null
"$docker" manifest push --insecure "$registry/stratus/index:multi" >/dev/null
if tf_push "$gdal_image" "$registry/stratus/index:multi" >"$work/tf-index.log" 2>&1; then
  fail "the image-push module accepted an image index"
fi
echo "   image-push: pushed $registry/stratus/apply-gdal-lambda; refused an index ($(tail -n1 "$work/tf-index.log" | cut -c1-80)…)"

# run-lambda on this machine serves the Runtime API to the gdal-lambda image, as Lambda's would.
runner=$root/target/debug/run-lambda
cargo build -q --locked -p run-lambda

step "local AWS (moto)"
moto_start "$work/moto.log" || fail "moto did not start"
aws_env=(--env "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL" --env AWS_ACCESS_KEY_ID=test --env AWS_SECRET_ACCESS_KEY=test
         --env AWS_REGION=us-east-1 --env AWS_DEFAULT_REGION=us-east-1 --env AWS_EC2_METADATA_DISABLED=true)

# Under qemu a new parse worker (GDAL's start, the confinement's self-test) takes far longer
# than the 10 s it may take on real hardware, and qemu's own mappings (its translation cache,
# the guest's reserved address space) count against the worker's address-space cap.
worker_env=(--env WORKER_START_SECONDS=10)
[[ $arch == "$(host_arch)" ]] || worker_env=(--env WORKER_START_SECONDS=300 --env WORKER_MEMORY_MB=16384)

bucket=stratus-images
key="rasters/scene 1+2.tif"
gdal_create -q -of GTiff -outsize 1024 1024 -bands 3 -ot Byte -burn 40 -burn 90 -burn 140 \
  -a_srs EPSG:32633 -a_ullr 500000 5000000 510240 4989760 "$work/src.tif"
gdal_translate -q -of COG -co COMPRESS=DEFLATE "$work/src.tif" "$work/scene.tif"

# Two Python functions (registered in moto's Lambda, code also in S3 because moto's code
# location cannot be downloaded), their payloads, the COG and its S3 event.
mkdir -p "$work/echo" "$work/geo"
# echo-py is a python3.13 function: its type statement is 3.12+ syntax, and its layer's module is
# in python/lib/python3.13/site-packages, where Lambda's Python 3.13 finds it.
cat >"$work/echo/app.py" <<'PY'
import json, sys, boto3, awslambdaric, greeting
type Response = dict[str, str]
def handler(event, context) -> Response:
    if "text" in event:
        return json.loads(event["text"])
    return {"hello": greeting.hello(event["name"]), "python": sys.version.split()[0], "boto3": boto3.__version__,
            "layer": greeting.__file__, "request_id": context.aws_request_id}
PY
mkdir -p "$work/layer/python/lib/python3.13/site-packages" "$work/node"
echo 'def hello(name): return name' >"$work/layer/python/lib/python3.13/site-packages/greeting.py"
cat >"$work/node/index.mjs" <<'JS'
export const handler = async (event, context) => ({hello: event.name, node: process.version, request_id: context.awsRequestId});
JS
cat >"$work/geo/app.py" <<'PY'
import rasterio, pyproj, shapely.geometry
def handler(event, context):
    with rasterio.open(event["raster"]) as ds:
        bounds = ds.bounds
        crs = pyproj.CRS.from_user_input(ds.crs.to_wkt())
        return {"gdal": rasterio.__gdal_version__, "driver": ds.driver, "size": [ds.width, ds.height],
                "count": ds.count, "epsg": crs.to_epsg(), "crs_name": crs.name,
                "footprint": shapely.geometry.box(*bounds).wkt,
                "mean_band1": float(ds.read(1, out_shape=(64, 64)).mean())}
PY
# The functions are of the architecture under test, as run-lambda checks.
lambda_arch=$([[ $arch == arm64 ]] && echo arm64 || echo x86_64)
NODE_RUNTIME=$node_runtime LAMBDA_ARCH=$lambda_arch $py - "$bucket" "$key" "$work" "$MOTO_PORT" <<'PY'
import io, json, os, pathlib, sys, zipfile, boto3
sys.path.insert(0, "scripts/lib")
from s3_event import object_created
bucket, key, work, port = sys.argv[1:]
s3, lam, iam = boto3.client("s3"), boto3.client("lambda"), boto3.client("iam")
s3.create_bucket(Bucket=bucket)
s3.upload_file(f"{work}/scene.tif", bucket, key)
size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
role = iam.create_role(RoleName="stratus-images-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
gdal_s3 = {"AWS_S3_ENDPOINT": f"127.0.0.1:{port}", "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
           "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
def zipped(root):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path in sorted(pathlib.Path(root).rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(root).as_posix())
    return buf.getvalue()
layer = lam.publish_layer_version(LayerName="greeting", Content={"ZipFile": zipped(f"{work}/layer")},
                                  CompatibleRuntimes=["python3.13"])["LayerVersionArn"]
s3.put_object(Bucket=bucket, Key="code/greeting-layer.zip", Body=zipped(f"{work}/layer"))
open(f"{work}/layer.arn", "w").write(layer)
for name, runtime, handler, env, layers, payload in [
    ("echo-py", "python3.13", "app.handler", {}, [layer], {"name": "Stratus"}),
    ("geo-py", "python3.11", "app.handler", gdal_s3, [], {"raster": f"s3://{bucket}/{key}"}),
    ("geo-py313", "python3.13", "app.handler", gdal_s3, [], {"raster": f"s3://{bucket}/{key}"}),
    ("echo-node", os.environ["NODE_RUNTIME"] or "nodejs20.x", "index.handler", {}, [], {"name": "Stratus"}),
]:
    code = zipped(f"{work}/{name.split('-')[0] if runtime.startswith('python') else 'node'}")
    lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler=handler, Layers=layers,
                        Code={"ZipFile": code}, Environment={"Variables": env}, Timeout=60,
                        Architectures=[os.environ["LAMBDA_ARCH"]])
    s3.put_object(Bucket=bucket, Key=f"code/{name}.zip", Body=code)
    s3.put_object(Bucket=bucket, Key=f"payloads/{name}.json", Body=json.dumps(payload).encode())
s3.put_object(Bucket=bucket, Key="payloads/echo-py-bad.json", Body=b'{"text": "not json"}')
json.dump(object_created(bucket, {key: size}), open(f"{work}/event.json", "w"))
PY

# `docker run` of IMAGE on the host's network (moto and the Runtime API are on its loopback),
# with the AWS environment; the container is removed at the end whatever happens.
run() { # <image> [docker run options…] -- <command…>
  local image=$1 name
  shift
  name=stratus-test-$$-${#containers[@]}
  containers+=("$name")
  local opts=()
  while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  "$docker" run --rm --name "$name" --platform "linux/$arch" --network host "${aws_env[@]}" "${opts[@]}" "$image" "$@"
}

# Reads s3://bucket/KEY as JSON and checks it with the Python expression CHECK (on `doc`).
check_s3_json() { # <key> <check> <what>
  $py - "$bucket" "$1" "$2" "$3" <<'PY'
import json, sys, boto3
bucket, key, check, what = sys.argv[1:]
doc = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
print(f"   {what}: {json.dumps(doc)[:300]}")
if not eval(check):
    sys.exit(f"test-images: unexpected {what}")
PY
}

# Prints the to_event_ms of a timings report that run-lambda wrote with `--report FILE`.
to_event_ms() {
  $py -c 'import json, sys; print(json.load(open(sys.argv[1]))["to_event_ms"])' "$1"
}
# Reports written inside an image: its user (not root) writes them to the host through a mount.
mkdir -m 777 "$work/reports"

step "gdal-lambda: the image's command under run-lambda's Runtime API (as Lambda runs it)"
# The function process run-lambda starts: the image's own command in a container, with the
# Lambda environment run-lambda hands a runtime.
cat >"$work/bootstrap" <<SH
#!/usr/bin/env bash
set -euo pipefail
args=()
while IFS= read -r -d '' kv; do args+=(--env "\$kv"); done \
  < <(env -0 | grep -zE '^(AWS_|_HANDLER=|_X_AMZN|LAMBDA_RUNTIME_DIR=|TZ=|OUTPUT_URL=|MAX_CONCURRENCY=|WORKER_START_SECONDS=|WORKER_MEMORY_MB=)')
exec "$docker" run --rm --name stratus-test-\$\$ --platform linux/$arch --network host "\${args[@]}" $gdal_image
SH
chmod +x "$work/bootstrap"
"$runner" exec "$work/bootstrap" --runtime provided.al2023 --function-name gdal-lambda \
  --payload "$work/event.json" --output "$work/response.json" --report "$work/reports/gdal-lambda.json" \
  --env "OUTPUT_URL=s3://$bucket/stac/" --env AWS_LAMBDA_LOG_FORMAT=JSON "${worker_env[@]}" >"$work/gdal-lambda.log" 2>&1 \
  || { cat "$work/gdal-lambda.log"; fail "gdal-lambda failed"; }
grep -q '"raster metadata"' "$work/gdal-lambda.log" || { cat "$work/gdal-lambda.log"; fail "gdal-lambda logged no metadata record"; }
echo "   response: $(head -c 300 "$work/response.json")"
check_s3_json "stac/$key.json" 'doc["type"] == "Feature" and doc["properties"]["proj:code" if "proj:code" in doc["properties"] else "proj:epsg"] in ("EPSG:32633", 32633)' "STAC Item"
$py -c 'import boto3, sys; boto3.client("s3").download_file(*sys.argv[1:])' "$bucket" "stac/$key.json" "$work/item.json"
valid=$(scripts/validate-stac "$work/item.json" 2>&1) || { echo "$valid"; fail "the image's STAC Item is not valid STAC"; }
echo "$valid" | sed "s/^/   /"
printf "   event delivered %.1f ms after start (includes starting the container)\n" "$(to_event_ms "$work/reports/gdal-lambda.json")"

step "gdal-lambda: the image's own run-lambda runs the handler (as a Batch job would)"
$py -c 'import boto3, sys; boto3.client("s3").upload_file(sys.argv[1], sys.argv[2], "events/s3-event.json")' \
  "$work/event.json" "$bucket"
run "$gdal_image" -v "$work/reports:/reports" -- run-lambda exec /var/task/bootstrap \
  --function-name gdal-lambda --payload "s3://$bucket/events/s3-event.json" --output "s3://$bucket/events/s3-event_out.json" \
  --report /reports/gdal-batch.json --env "OUTPUT_URL=s3://$bucket/stac-batch/" "${worker_env[@]}" >"$work/gdal-batch.log" 2>&1 \
  || { cat "$work/gdal-batch.log"; fail "run-lambda exec in the gdal-lambda image failed"; }
check_s3_json "stac-batch/$key.json" 'doc["type"] == "Feature"' "STAC Item"
lean_ms=$(to_event_ms "$work/reports/gdal-batch.json")
lean_ms=$(printf "%.1f" "$lean_ms")
emulated=""
[[ $arch == "$(host_arch)" ]] || emulated=", under qemu emulation: not a real $arch figure"
echo "   start of the handler to its first /next (in the image$emulated): $lean_ms ms"

step "gdal-lambda: hostile uploads, with the image's own GDAL"
# What the image's GDAL is kept from: a VRT pointing at a canary URL and a local file, a GeoTIFF
# whose CRS names a grid file, a TIFF of 5,000 chained IFDs. A canary HTTP server must see nothing.
canary_port=$(free_port)
$py -m http.server --bind 127.0.0.1 "$canary_port" --directory "$work" >"$work/canary.log" 2>&1 &
canary_pid=$!
gdal_translate -q -of GTiff -co GEOTIFF_KEYS_FLAVOR=ESRI_PE -a_ullr 10 50 11 49 \
  -a_srs "+proj=longlat +ellps=GRS80 +nadgrids=$work/canary.gsb +wktext +no_defs" "$work/src.tif" "$work/grid-crs.tif" 2>/dev/null
$py - "$bucket" "$work" "$canary_port" <<'PY'
import json, struct, sys, boto3
sys.path.insert(0, "scripts/lib")
from s3_event import object_created
bucket, work, port = sys.argv[1:]
s3 = boto3.client("s3")
vrt = (f'<VRTDataset rasterXSize="8" rasterYSize="8"><VRTRasterBand dataType="Byte" band="1">'
       f'<SimpleSource><SourceFilename>/vsicurl/http://127.0.0.1:{port}/x.tif</SourceFilename></SimpleSource>'
       f'<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource></VRTRasterBand></VRTDataset>')
chain = bytearray(b"II*\0" + struct.pack("<I", 8))
for i in range(5000):
    nxt = 0 if i == 4999 else 8 + (i + 1) * 18
    chain += struct.pack("<HHHII", 1, 256, 3, 1, 1) + struct.pack("<I", nxt)
objects = {"hostile/refs.vrt": vrt.encode(), "hostile/grid-crs.tif": open(f"{work}/grid-crs.tif", "rb").read(),
           "hostile/chain.tif": bytes(chain)}
for key, body in objects.items():
    s3.put_object(Bucket=bucket, Key=key, Body=body)
json.dump(object_created(bucket, {key: len(body) for key, body in objects.items()}), open(f"{work}/hostile-event.json", "w"))
PY
"$runner" exec "$work/bootstrap" --runtime provided.al2023 --function-name gdal-lambda \
  --payload "$work/hostile-event.json" --output "$work/hostile-response.json" \
  --env "OUTPUT_URL=s3://$bucket/stac/" --env AWS_LAMBDA_LOG_FORMAT=JSON "${worker_env[@]}" >"$work/hostile.log" 2>&1 \
  || { cat "$work/hostile.log"; fail "gdal-lambda failed on the hostile event"; }
kill "$canary_pid" 2>/dev/null || true
$py - "$work/hostile-response.json" "$work/canary.log" <<'PY'
import json, sys
outcomes = [(r["key"], r["status"], r.get("error_kind")) for r in json.load(open(sys.argv[1]))["records"]]
print("   " + "; ".join(f"{k}: {s} {e}" for k, s, e in outcomes))
want = [("hostile/refs.vrt", "failed", "NotARaster"), ("hostile/grid-crs.tif", "failed", "ExternalReference"),
        ("hostile/chain.tif", "failed", "LimitExceeded")]
if outcomes != want:
    sys.exit(f"test-images: unexpected outcomes {outcomes}")
hits = [l for l in open(sys.argv[2]) if "GET" in l or "HEAD" in l]
if hits:
    sys.exit(f"test-images: the canary URL was fetched: {hits}")
PY
grep -q '/etc/passwd\|canary.gsb' "$work/hostile.log" && fail "a referenced path reached the log"
echo "   refused all three; the canary URL saw no request"

step "run-lambda: \`run\` runs a python3.13 function on the python3.13 image"
layer_arn=$(cat "$work/layer.arn")
echo_py=(run echo-py "s3://$bucket/payloads/echo-py.json" --code "s3://$bucket/code/echo-py.zip"
         --layer-code "$layer_arn=s3://$bucket/code/greeting-layer.zip")
run "$run_image" -- "${echo_py[@]}" >"$work/run.log" 2>&1 \
  || { cat "$work/run.log"; fail "run echo-py failed in the run-lambda python3.13 image"; }
check_s3_json payloads/echo-py_out.json \
  'doc["hello"] == "Stratus" and doc["request_id"] and doc["python"].startswith("3.13.") and doc["layer"].endswith("/opt/python/lib/python3.13/site-packages/greeting.py")' "response"
# A failing function's last line names its exception as Python's traceback does (Cirrus reads it).
rc=0
run "$run_image" -- run echo-py "s3://$bucket/payloads/echo-py-bad.json" --code "s3://$bucket/code/echo-py.zip" \
  --layer-code "$layer_arn=s3://$bucket/code/greeting-layer.zip" >"$work/run-bad.log" 2>&1 || rc=$?
last=$(grep -v '^[[:space:]]*$' "$work/run-bad.log" | tail -n 1)
[[ $rc == 3 && $last == "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)" ]] \
  || { cat "$work/run-bad.log"; fail "a failing function must exit 3 with Python's own last line (got $rc: $last)"; }

step "run-lambda: the python3.11 image refuses the python3.13 function"
rc=0
run "$run311_image" -- "${echo_py[@]}" >"$work/run-311.log" 2>&1 || rc=$?
last=$(grep -v '^[[:space:]]*$' "$work/run-311.log" | tail -n 1)
echo "   exit $rc: $last"
[[ $rc == 17 && $last == "RuntimeMismatch: function echo-py runs on python3.13, but this image's Python is 3.11;"*"(tagged …-python3.13)"* ]] \
  || { cat "$work/run-311.log"; fail "the python3.11 image must refuse a python3.13 function with exit 17"; }
rc=0
run "$run311_image" -- "${echo_py[@]}" --allow-runtime-mismatch >"$work/run-311-anyway.log" 2>&1 || rc=$?
last=$(grep -v '^[[:space:]]*$' "$work/run-311-anyway.log" | tail -n 1)
echo "   --allow-runtime-mismatch: exit $rc: ${last:0:120}"
[[ $rc == 4 && $last == Runtime.UserCodeSyntaxError:* ]] \
  || { cat "$work/run-311-anyway.log"; fail "Python 3.11 must fail on the 3.12+ syntax (exit 4, Runtime.UserCodeSyntaxError)"; }

if [[ -n $node_image ]]; then
  step "run-lambda: \`run\` runs a $node_runtime function on the $node_runtime image"
  run "$node_image" -- run echo-node "s3://$bucket/payloads/echo-node.json" --code "s3://$bucket/code/echo-node.zip" \
    >"$work/run-node.log" 2>&1 || { cat "$work/run-node.log"; fail "run echo-node failed in the run-lambda $node_runtime image"; }
  check_s3_json payloads/echo-node_out.json \
    "doc['hello'] == 'Stratus' and doc['node'].startswith('v${node_runtime//[^0-9]/}.')" "response"
  rc=0
  run "$node_image" -- "${echo_py[@]}" >"$work/run-node-py.log" 2>&1 || rc=$?
  last=$(grep -v '^[[:space:]]*$' "$work/run-node-py.log" | tail -n 1)
  echo "   a python3.13 function: exit $rc: ${last:0:120}"
  [[ $rc == 17 && $last == RuntimeMismatch:*"(tagged …-python3.13)"* ]] \
    || { cat "$work/run-node-py.log"; fail "the $node_runtime image must refuse a Python function with exit 17"; }
fi

step "run-lambda: the binary runs in an image with no libc (static)"
ctr=$("$docker" create --platform "linux/$arch" "$run_image")
containers+=("$ctr")
mkdir -p "$work/static"
"$docker" cp "$ctr:/usr/local/bin/run-lambda" "$work/static/run-lambda"
printf 'FROM scratch\nCOPY run-lambda /run-lambda\nENTRYPOINT ["/run-lambda"]\n' >"$work/static/Dockerfile"
DOCKER_BUILDKIT=1 "$docker" build --quiet --platform "linux/$arch" -t localhost/stratus-test/static:latest "$work/static" >/dev/null
version=$(run localhost/stratus-test/static:latest -- --version) || fail "run-lambda does not run without a libc"
echo "   FROM scratch: $version ($(($(wc -c <"$work/static/run-lambda") / 1024)) KiB, nothing else in the image)"
"$docker" rmi localhost/stratus-test/static:latest >/dev/null

# --- Container-image functions: a Batch multi-container job, and Docker here -------------------
# As the job definition of lambda-batch-task runs in ECS: `run-lambda serve` (essential) and the
# function's own image, in one network namespace of their own (--network container:…), with the
# variables the module gives the function's container. The namespace has only its loopback; a
# forwarder (forward.py) stands in for the task's route to AWS (moto) and to ECS's task metadata
# endpoint, stood in for by ecs-metadata.py (which tells serve that the function's container
# stopped). Two functions: gdal-lambda's image on an S3 event, and a Python function on the
# python3.13 base's /lambda-entrypoint.sh and its awslambdaric.
step "image functions: a Python function image on the python3.13 base, and both images in moto's Lambda"
mkdir -p "$work/fn-image"
cat >"$work/fn-image/app.py" <<'PY'
import os, time
class SceneCorrupt(Exception):
    pass
def handler(event, context):
    mode = event.get("mode")
    if mode == "error":
        raise SceneCorrupt("band 1: truncated")
    if mode == "sleep":
        time.sleep(300)
    if mode == "exit":
        os._exit(3)
    return {"hello": event.get("name"), "function": context.function_name, "memory": context.memory_limit_in_mb,
            "request_id": context.aws_request_id, "handler": os.environ["_HANDLER"], "cwd": os.getcwd()}
PY
printf 'FROM localhost/stratus-lambda:python3.13-%s\nCOPY app.py /var/task/\nCMD ["app.handler"]\n' "$arch" >"$work/fn-image/Dockerfile"
DOCKER_BUILDKIT=1 "$docker" build --quiet --platform "linux/$arch" -t "$registry/stratus/function-py:test" "$work/fn-image" >/dev/null
"$docker" push --quiet "$registry/stratus/function-py:test" >/dev/null
py_fn_image=$("$docker" image inspect --format '{{index .RepoDigests 0}}' "$registry/stratus/function-py:test")
gdal_pushed=$(image gdal_lambda)
run_pushed=$(image run_lambda/python3.13)
$py - "$bucket" "$gdal_pushed" "$py_fn_image" "$lambda_arch" <<'PY'
import json, sys, boto3
bucket, gdal, py_fn, arch = sys.argv[1:]
lam, s3 = boto3.client("lambda"), boto3.client("s3")
role = boto3.client("iam").get_role(RoleName="stratus-images-test")["Role"]["Arn"]
for name, image, env in [("gdal-image", gdal, {"OUTPUT_URL": f"s3://{bucket}/stac-image/"}), ("py-image", py_fn, {})]:
    lam.create_function(FunctionName=name, PackageType="Image", Code={"ImageUri": image}, Role=role,
                        Architectures=[arch], MemorySize=1024, Environment={"Variables": env})
for mode in ["echo", "error", "sleep", "exit"]:
    s3.put_object(Bucket=bucket, Key=f"payloads/py-image-{mode}.json", Body=json.dumps({"mode": mode, "name": "Stratus"}).encode())
PY
echo "   gdal-image: $gdal_pushed"
echo "   py-image:   $py_fn_image"

step "image functions: the task's network namespace (its loopback only), ECS's metadata endpoint"
task_net=$work/task-net
mkdir -m 777 "$task_net"
cp scripts/images/forward.py "$task_net/"
meta_port=$(free_port)
job_runner=stratus-test-$$-run-lambda job_function=stratus-test-$$-function
DOCKER_CLI=$docker $py scripts/images/ecs-metadata.py "$meta_port" "run-lambda=$job_runner" "function=$job_function" &
pids+=($!)
$py scripts/images/forward.py unix-to-tcp "$task_net/moto.sock" "$MOTO_PORT" unix-to-tcp "$task_net/meta.sock" "$meta_port" >"$work/forward.log" 2>&1 &
pids+=($!)
task=stratus-test-$$-task
containers+=("$task" "$job_runner" "$job_function")
"$docker" run -d --name "$task" --platform "linux/$arch" --network none -v "$task_net:/net" --entrypoint /var/lang/bin/python3 \
  "$run_image" /net/forward.py tcp-to-unix "$MOTO_PORT" /net/moto.sock tcp-to-unix "$meta_port" /net/meta.sock >/dev/null
for _ in $(seq 50); do [[ $("$docker" logs "$task" 2>&1) == *ready* ]] && break; sleep 0.2; done
[[ $("$docker" logs "$task" 2>&1) == *ready* ]] || fail "the task's forwarder did not start: $("$docker" logs "$task" 2>&1)"
task_aws=(--env "AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT" --env AWS_ACCESS_KEY_ID=test --env AWS_SECRET_ACCESS_KEY=test
          --env AWS_REGION=us-east-1 --env AWS_DEFAULT_REGION=us-east-1 --env AWS_EC2_METADATA_DISABLED=true)

# One job: run-lambda serve FUNCTION s3://bucket/KEY [serve options…] and the function's IMAGE
# with the variables lambda-batch-task gives its container [and more: --env K=V…]. Waits for
# run-lambda (the essential container), then stops the function's container as ECS would. Its
# exit code goes to $job_rc, run-lambda's log stream to LOG, the function's to LOG.function.
image_job() { # <function> <key> <log> <image> [serve options…] -- [function container options…]
  local function=$1 key=$2 log=$3 fimage=$4 serve=() fopts=()
  shift 4
  while (($#)) && [[ $1 != -- ]]; do serve+=("$1"); shift; done
  (($#)) && shift
  fopts=("$@")
  "$docker" rm -f "$job_runner" "$job_function" >/dev/null 2>&1 || true
  "$docker" run -d --name "$job_runner" --platform "linux/$arch" --network "container:$task" "${task_aws[@]}" \
    --env "ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:$meta_port/v4/task" \
    "$run_pushed" run-lambda serve "$function" "s3://$bucket/$key" "${serve[@]}" >/dev/null
  "$docker" run -d --name "$job_function" --platform "linux/$arch" --network "container:$task" "${task_aws[@]}" \
    --env AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 --env "AWS_LAMBDA_FUNCTION_NAME=$function" \
    --env 'AWS_LAMBDA_FUNCTION_VERSION=$LATEST' --env AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024 \
    --env "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/$function" --env "AWS_LAMBDA_LOG_STREAM_NAME=batch/[\$LATEST]$function" \
    --env AWS_LAMBDA_INITIALIZATION_TYPE=on-demand --env TZ=:UTC "${fopts[@]}" "$fimage" >/dev/null
  job_rc=$("$docker" wait "$job_runner")
  job_function_state=$("$docker" inspect --format '{{.State.Status}}' "$job_function")
  "$docker" logs "$job_runner" >"$log" 2>&1
  "$docker" rm -f "$job_function" >/dev/null
  "$docker" rm -f "$job_runner" >/dev/null
}
last_line() { grep -v '^[[:space:]]*$' "$1" | tail -n 1; }

step "image functions as a Batch job: gdal-lambda's image on an S3 event from moto"
image_job gdal-image events/s3-event.json "$work/job-gdal.log" "$gdal_pushed" \
  --output "s3://$bucket/events/s3-event_image_out.json" -- \
  --env "OUTPUT_URL=s3://$bucket/stac-image/" --env AWS_LAMBDA_LOG_FORMAT=JSON "${worker_env[@]}"
[[ $job_rc == 0 ]] || { cat "$work/job-gdal.log"; fail "the gdal-lambda image job failed (exit $job_rc)"; }
check_s3_json "stac-image/$key.json" 'doc["type"] == "Feature"' "STAC Item (written by the function's container)"
check_s3_json events/s3-event_image_out.json 'doc["records"][0]["status"] == "processed"' "response (written by run-lambda)"

step "image functions as a Batch job: the Python function image (payload in, response out)"
image_job py-image payloads/py-image-echo.json "$work/job-py.log" "$py_fn_image"
[[ $job_rc == 0 ]] || { cat "$work/job-py.log"; fail "the Python image job failed (exit $job_rc)"; }
check_s3_json payloads/py-image-echo_out.json \
  'doc["hello"] == "Stratus" and doc["function"] == "py-image" and doc["memory"] == "1024" and doc["handler"] == "app.handler" and doc["cwd"] == "/var/task" and doc["request_id"]' "response"

step "image functions as a Batch job: a raised error, a timeout, a function that exits without answering"
image_job py-image payloads/py-image-error.json "$work/job-py-error.log" "$py_fn_image"
line=$(last_line "$work/job-py-error.log")
# What Cirrus' post-batch makes of that line (its regex): the error type and the message.
parsed=$($py -c 'import re, sys; m = re.match(r"^(?:([\.\w]+):)?\s*(.*)", sys.argv[1]); print(f"{m[1]} | {m[2]}")' "$line")
echo "   exit $job_rc, last line: $line (post-batch's regex: $parsed)"
[[ $job_rc == 3 && $line == "SceneCorrupt: band 1: truncated" ]] \
  || { cat "$work/job-py-error.log"; fail "a raised error must exit 3 with the client's type and message last"; }
image_job py-image payloads/py-image-sleep.json "$work/job-py-sleep.log" "$py_fn_image" --timeout 3
line=$(last_line "$work/job-py-sleep.log")
echo "   exit $job_rc, the function's container $job_function_state when the job ended: $line"
[[ $job_rc == 6 && $line == "Sandbox.Timedout: Task timed out after 3.00 seconds" && $job_function_state == running ]] \
  || { cat "$work/job-py-sleep.log"; fail "a timeout must end the job (exit 6) without waiting for the function's container"; }
image_job py-image payloads/py-image-exit.json "$work/job-py-exit.log" "$py_fn_image"
line=$(last_line "$work/job-py-exit.log")
echo "   exit $job_rc: $line"
[[ $job_rc == 5 && $line == Runtime.ExitError:*"Runtime exited with error: exit status 3" ]] \
  || { cat "$work/job-py-exit.log"; fail "a function container that exits without answering must end the job (exit 5)"; }

step "image functions here, with Docker: run-lambda exec --image, and run on the function's ARN"
# Another architecture than this machine's runs under Docker's emulation, which run-lambda only
# allows when asked.
emulate=()
[[ $arch == "$(host_arch)" ]] || emulate=(--allow-runtime-mismatch)
py_arn=$($py -c 'import boto3; print(boto3.client("lambda").get_function(FunctionName="py-image")["Configuration"]["FunctionArn"])')
out=$(DOCKER_CLI=$docker "$runner" exec --image "$py_fn_image" --architecture "$lambda_arch" "${emulate[@]}" \
  --function-name py-local --payload - <<<'{"name":"here"}' 2>"$work/exec-image.log") \
  || { cat "$work/exec-image.log"; fail "run-lambda exec --image failed"; }
echo "   exec --image: $out"
$py -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(d["hello"] != "here" or d["function"] != "py-local")' "$out" \
  || fail "exec --image answered $out"
DOCKER_CLI=$docker "$runner" run "$py_arn" "s3://$bucket/payloads/py-image-echo.json" --output "s3://$bucket/payloads/py-image-run_out.json" "${emulate[@]}" \
  >"$work/run-image.log" 2>&1 || { cat "$work/run-image.log"; fail "run-lambda run on the image function's ARN failed"; }
check_s3_json payloads/py-image-run_out.json 'doc["hello"] == "Stratus" and doc["function"] == "py-image"' "run on the ARN"

# run-geolambda: each image reads the COG with its own Debian release's rasterio, pyproj and shapely.
for geo in "python3.11 $geo_image geo-py 3.6" "python3.13 $geo313_image geo-py313 3.10"; do
  read -r runtime image function gdal <<<"$geo"
  step "run-geolambda ($runtime): \`run\` runs a $runtime function that reads the COG with rasterio"
  run "$image" -- run "$function" "s3://$bucket/payloads/$function.json" --code "s3://$bucket/code/$function.zip" >"$work/run-$function.log" 2>&1 \
    || { cat "$work/run-$function.log"; fail "run $function failed in the run-geolambda $runtime image"; }
  check_s3_json "payloads/${function}_out.json" \
    "doc['gdal'].startswith('$gdal.') and doc['driver'] == 'GTiff' and doc['size'] == [1024, 1024] and doc['epsg'] == 32633 and abs(doc['mean_band1'] - 40) < 1e-6" "response"
  run "$image" -- sh -c 'gdalinfo --version && projinfo -q -o PROJ EPSG:32633' \
    | sed 's/^/   /' || fail "GDAL/PROJ command line tools failed in run-geolambda $runtime"
done

step "image sizes ($arch, as the registry stores them)"
$py scripts/images/sizes.py "$STRATUS_TFVARS" | sed 's/^/   /'
echo "test-images: all $arch images built, pushed and ran in $((SECONDS - t0)) s (gdal-lambda first /next after $lean_ms ms)"
