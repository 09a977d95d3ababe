#!/usr/bin/env bash
# `just test-images [ARCH]`: build every image with buildah for ARCH (default: this machine's)
# from a locally made Debian base (no registry, no Docker engine), then run them on loopback.
# Another architecture (arm64 on an x86_64 machine) is cross-compiled (scripts/images/stage.sh)
# and its images built and run under qemu-user-static (scripts/images/emulation.sh).
#  1. gdal-lambda: the image's command answers an S3 event delivered by run-lambda's Runtime API
#     (on the host, as Lambda would), reads the COG from moto S3 and writes its STAC Item;
#     then the image's own run-lambda runs it as a Batch job would (`run-lambda exec`);
#     then hostile uploads (a VRT pointing at a canary URL and /etc/passwd, a GeoTIFF whose CRS
#     names a grid file, 5,000 chained IFDs) are refused by the image's own GDAL;
#  2. run-lambda: `run <function> <url>` runs a Python function registered in moto's Lambda;
#  3. run-geolambda: `run` runs a Python function that reads the COG with rasterio (/vsis3/),
#     and the GDAL/PROJ command line tools work.
# Last, the images' sizes, uncompressed and compressed (scripts/images/sizes.sh).
# The base image and buildah's layer cache are reused across runs; nothing depends on them.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/images/lib.sh

arch=${1:-$(host_arch)}
rust_triple "$arch" >/dev/null
tag=test
base=localhost/stratus-base:bookworm
if [[ $arch != "$(host_arch)" ]]; then
  tag+=-$arch
  base+=-$arch
fi
base=${STRATUS_BASE_IMAGE:-$base}
py=$root/.venv/bin/python
t0=$SECONDS
step() { echo "== $* [$((SECONDS - t0)) s]"; }
fail() { echo "test-images: $*" >&2; exit 1; }

for tool in buildah debootstrap gdal_translate; do
  command -v "$tool" >/dev/null || fail "$tool is missing (just setup installs it)"
done
[[ $(id -u) == 0 ]] || fail "buildah's chroot isolation needs root here"

work=$(mktemp -d /var/tmp/stratus-test-images.XXXXXX)
moto_pid=""
containers=()
cleanup() {
  [[ -n $moto_pid ]] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
  ((${#containers[@]})) && buildah rm "${containers[@]}" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "local Debian base image ($arch)"
scripts/images/emulation.sh "$arch"
scripts/images/base.sh --arch="$arch" --image="$base"

step "binaries for $arch"
scripts/images/stage.sh "$arch"
# The Runtime API that hands gdal-lambda its event runs on this machine, as Lambda's would.
runner=target/images/cargo/release/run-lambda
if [[ $arch != "$(host_arch)" ]]; then
  cargo build --release --locked -j "${CARGO_BUILD_JOBS:-2}" --target-dir target/images/cargo -p run-lambda
fi

# Builds reach PyPI from inside; behind a TLS-inspecting proxy pip needs this machine's CA bundle.
ca_args=()
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  ca_args=(-v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro --build-arg PIP_CERT=/run/host-ca.crt)
fi
for name in gdal-lambda run-lambda run-geolambda; do
  step "building $name"
  s=$SECONDS
  gdal_args=()
  [[ ${STRATUS_GDAL:-bundled} == system ]] && gdal_args=(--build-arg GDAL_PACKAGES=libgdal32)
  buildah bud --isolation chroot --layers --quiet --format docker --platform "linux/$arch" "${ca_args[@]}" "${gdal_args[@]}" \
    --build-arg "BASE_IMAGE=$base" -f "images/$name/Dockerfile" -t "localhost/stratus/$name:$tag" \
    target/images/context >"$work/build-$name.log" 2>&1 \
    || { cat "$work/build-$name.log"; fail "building $name failed"; }
  echo "   built localhost/stratus/$name:$tag in $((SECONDS - s)) s"
done

step "local AWS (moto)"
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
       AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
for _ in $(seq 100); do
  curl -fs "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$AWS_ENDPOINT_URL/moto-api/" >/dev/null || fail "moto did not start: $(cat "$work/moto.log")"
aws_env=(--env "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL" --env AWS_ACCESS_KEY_ID=test --env AWS_SECRET_ACCESS_KEY=test
         --env AWS_REGION=us-east-1 --env AWS_DEFAULT_REGION=us-east-1 --env AWS_EC2_METADATA_DISABLED=true)

bucket=stratus-images
key="rasters/scene 1+2.tif"
gdal_create -q -of GTiff -outsize 1024 1024 -bands 3 -ot Byte -burn 40 -burn 90 -burn 140 \
  -a_srs EPSG:32633 -a_ullr 500000 5000000 510240 4989760 "$work/src.tif"
gdal_translate -q -of COG -co COMPRESS=DEFLATE "$work/src.tif" "$work/scene.tif"

# Two Python functions (registered in moto's Lambda, code also in S3 because moto's code
# location cannot be downloaded), their payloads, the COG and its S3 event.
mkdir -p "$work/echo" "$work/geo"
cat >"$work/echo/app.py" <<'PY'
import sys, boto3, awslambdaric
def handler(event, context):
    return {"hello": event["name"], "python": sys.version.split()[0], "boto3": boto3.__version__,
            "request_id": context.aws_request_id}
PY
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
$py - "$bucket" "$key" "$work" "$port" <<'PY'
import datetime, io, json, sys, urllib.parse, zipfile, boto3
bucket, key, work, port = sys.argv[1:]
s3, lam, iam = boto3.client("s3"), boto3.client("lambda"), boto3.client("iam")
s3.create_bucket(Bucket=bucket)
s3.upload_file(f"{work}/scene.tif", bucket, key)
size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
role = iam.create_role(RoleName="stratus-images-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
gdal_s3 = {"AWS_S3_ENDPOINT": f"127.0.0.1:{port}", "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
           "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
for name, env, payload in [
    ("echo-py", {}, {"name": "Stratus"}),
    ("geo-py", gdal_s3, {"raster": f"s3://{bucket}/{key}"}),
]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(f"{work}/{name.split('-')[0]}/app.py", "app.py")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": buf.getvalue()}, Environment={"Variables": env}, Timeout=60)
    s3.put_object(Bucket=bucket, Key=f"code/{name}.zip", Body=buf.getvalue())
    s3.put_object(Bucket=bucket, Key=f"payloads/{name}.json", Body=json.dumps(payload).encode())
record = {
    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
    "eventTime": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "AWS:TEST"},
    "requestParameters": {"sourceIPAddress": "127.0.0.1"},
    "responseElements": {"x-amz-request-id": "TEST", "x-amz-id-2": "TEST"},
    "s3": {"s3SchemaVersion": "1.0", "configurationId": "raster-upload",
           "bucket": {"name": bucket, "ownerIdentity": {"principalId": "TEST"}, "arn": f"arn:aws:s3:::{bucket}"},
           "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": size, "eTag": "test", "sequencer": "0"}},
}
json.dump({"Records": [record]}, open(f"{work}/event.json", "w"))
PY

new_container() { # <image> → container name (removed on exit)
  local c
  c=$(buildah from --quiet --arch "$arch" "$1")
  containers+=("$c")
  echo "$c"
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

# Prints the to_event_ms of run-lambda's "function returned" log line in FILE.
to_event_ms() {
  sed -n 's/.*function returned.*to_event_ms=\([0-9.]*\).*/\1/p' "$1" | tail -n1
}

step "gdal-lambda: the image's command under run-lambda's Runtime API (as Lambda runs it)"
ctr=$(new_container "localhost/stratus/gdal-lambda:$tag")
cmd=$(buildah inspect --type image --format '{{range .OCIv1.Config.Cmd}}{{.}} {{end}}' "localhost/stratus/gdal-lambda:$tag")
# The function process run-lambda starts: the image's command in its container, with the Lambda
# environment run-lambda hands a runtime (the container shares the host's loopback).
cat >"$work/bootstrap" <<SH
#!/usr/bin/env bash
set -euo pipefail
args=()
while IFS= read -r -d '' kv; do args+=(--env "\$kv"); done \
  < <(env -0 | grep -zE '^(AWS_|_HANDLER=|_X_AMZN|LAMBDA_RUNTIME_DIR=|TZ=|OUTPUT_URL=|MAX_CONCURRENCY=)')
exec buildah run --isolation chroot "\${args[@]}" $ctr -- $cmd
SH
chmod +x "$work/bootstrap"
"$runner" exec "$work/bootstrap" --runtime provided.al2023 --function-name gdal-lambda \
  --payload "$work/event.json" --output "$work/response.json" \
  --env "OUTPUT_URL=s3://$bucket/stac/" --env AWS_LAMBDA_LOG_FORMAT=JSON >"$work/gdal-lambda.log" 2>&1 \
  || { cat "$work/gdal-lambda.log"; fail "gdal-lambda failed"; }
grep -q '"raster metadata"' "$work/gdal-lambda.log" || { cat "$work/gdal-lambda.log"; fail "gdal-lambda logged no metadata record"; }
echo "   response: $(head -c 300 "$work/response.json")"
check_s3_json "stac/$key.json" 'doc["type"] == "Feature" and doc["properties"]["proj:code" if "proj:code" in doc["properties"] else "proj:epsg"] in ("EPSG:32633", 32633)' "STAC Item"
printf "   event delivered %.1f ms after start (includes starting the container)\n" "$(to_event_ms "$work/gdal-lambda.log")"

step "gdal-lambda: the image's own run-lambda runs the handler (as a Batch job would)"
$py -c 'import boto3, sys; boto3.client("s3").upload_file(sys.argv[1], sys.argv[2], "events/s3-event.json")' \
  "$work/event.json" "$bucket"
buildah run --isolation chroot "${aws_env[@]}" "$ctr" -- run-lambda exec /var/task/bootstrap \
  --function-name gdal-lambda --payload "s3://$bucket/events/s3-event.json" --output "s3://$bucket/events/s3-event_out.json" \
  --env "OUTPUT_URL=s3://$bucket/stac-batch/" >"$work/gdal-batch.log" 2>&1 \
  || { cat "$work/gdal-batch.log"; fail "run-lambda exec in the gdal-lambda image failed"; }
check_s3_json "stac-batch/$key.json" 'doc["type"] == "Feature"' "STAC Item"
lean_ms=$(to_event_ms "$work/gdal-batch.log")
lean_ms=$(printf "%.1f" "$lean_ms")
emulated=""
[[ $arch == "$(host_arch)" ]] || emulated=", under qemu emulation: not a real $arch figure"
echo "   start of the handler to its first /next (in the image$emulated): $lean_ms ms"

step "gdal-lambda: hostile uploads, with the image's own GDAL"
# What the image's GDAL is kept from: a VRT pointing at a canary URL and a local file, a GeoTIFF
# whose CRS names a grid file, a TIFF of 5,000 chained IFDs. A canary HTTP server must see nothing.
canary_port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$py -m http.server --bind 127.0.0.1 "$canary_port" --directory "$work" >"$work/canary.log" 2>&1 &
canary_pid=$!
gdal_translate -q -of GTiff -co GEOTIFF_KEYS_FLAVOR=ESRI_PE -a_ullr 10 50 11 49 \
  -a_srs "+proj=longlat +ellps=GRS80 +nadgrids=$work/canary.gsb +wktext +no_defs" "$work/src.tif" "$work/grid-crs.tif" 2>/dev/null
$py - "$bucket" "$work" "$canary_port" <<'PY'
import datetime, json, struct, sys, urllib.parse, boto3
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
records = []
for key, body in objects.items():
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    records.append({"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                    "eventTime": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "AWS:TEST"},
                    "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                    "responseElements": {"x-amz-request-id": "TEST", "x-amz-id-2": "TEST"},
                    "s3": {"s3SchemaVersion": "1.0", "configurationId": "raster-upload",
                           "bucket": {"name": bucket, "ownerIdentity": {"principalId": "TEST"}, "arn": f"arn:aws:s3:::{bucket}"},
                           "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": len(body), "eTag": "t", "sequencer": "0"}}})
json.dump({"Records": records}, open(f"{work}/hostile-event.json", "w"))
PY
"$runner" exec "$work/bootstrap" --runtime provided.al2023 --function-name gdal-lambda \
  --payload "$work/hostile-event.json" --output "$work/hostile-response.json" \
  --env "OUTPUT_URL=s3://$bucket/stac/" --env AWS_LAMBDA_LOG_FORMAT=JSON >"$work/hostile.log" 2>&1 \
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

step "run-lambda: \`run\` runs a Python function"
ctr=$(new_container "localhost/stratus/run-lambda:$tag")
buildah run --isolation chroot "${aws_env[@]}" "$ctr" -- \
  run echo-py "s3://$bucket/payloads/echo-py.json" --code "s3://$bucket/code/echo-py.zip" >"$work/run.log" 2>&1 \
  || { cat "$work/run.log"; fail "run echo-py failed in the run-lambda image"; }
check_s3_json payloads/echo-py_out.json 'doc["hello"] == "Stratus" and doc["request_id"]' "response"

step "run-geolambda: \`run\` runs a Python function that reads the COG with rasterio"
ctr=$(new_container "localhost/stratus/run-geolambda:$tag")
buildah run --isolation chroot "${aws_env[@]}" "$ctr" -- \
  run geo-py "s3://$bucket/payloads/geo-py.json" --code "s3://$bucket/code/geo-py.zip" >"$work/run-geo.log" 2>&1 \
  || { cat "$work/run-geo.log"; fail "run geo-py failed in the run-geolambda image"; }
check_s3_json payloads/geo-py_out.json \
  'doc["driver"] == "GTiff" and doc["size"] == [1024, 1024] and doc["epsg"] == 32633 and abs(doc["mean_band1"] - 40) < 1e-6' "response"
buildah run --isolation chroot "$ctr" -- sh -c 'gdalinfo --version && projinfo -q -o PROJ EPSG:32633' \
  | sed 's/^/   /' || fail "GDAL/PROJ command line tools failed in run-geolambda"

step "image sizes ($arch)"
IMAGE_TAG=$tag scripts/images/sizes.sh | sed 's/^/   /'
echo "test-images: all $arch images built and ran in $((SECONDS - t0)) s (gdal-lambda first /next after $lean_ms ms)"
