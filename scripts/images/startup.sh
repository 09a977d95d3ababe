#!/usr/bin/env bash
# Start-up of the gdal-lambda handler inside its image: the time from run-lambda starting the
# process to the handler's first `GET /runtime/invocation/next` (`to_event_ms` of run-lambda's
# `--report`),
# for the image's lean static GDAL and, for comparison, the same handler linked with Debian's
# libgdal (run in the run-geolambda image, which carries that libgdal). Images from
# `just test-images` (localhost/stratus/*:test, in its engine: scripts/images/engine.sh). RUNS
# (default 20) launches each; prints the median.
#   scripts/images/startup.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
runs=${RUNS:-20}
out=target/images/cargo
work=$(mktemp -d)
chmod 755 "$work" # the images run as uid 10001: the event and the handler must be readable
trap 'rm -rf "$work"; scripts/images/engine.sh release $$' EXIT
eval "$(scripts/images/engine.sh --lease $$)"
docker=$DOCKER_CLI

for image in gdal-lambda run-geolambda; do
  "$docker" image inspect "localhost/stratus/$image:test" >/dev/null 2>&1 \
    || { echo "startup: localhost/stratus/$image:test is missing: run \`just test-images\` first" >&2; exit 1; }
done

echo "startup: building gdal-lambda against the system GDAL for comparison"
cargo build --release --locked -q -j "${CARGO_BUILD_JOBS:-2}" --target-dir "$out" -p gdal-lambda
cp "$out/release/gdal-lambda" "$work/gdal-lambda-system"

# An S3 test event: acknowledged without touching S3, so only the start-up is measured.
echo '{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-06-01T10:30:00.000Z","Bucket":"b","RequestId":"r","HostId":"h"}' >"$work/event.json"
# `docker run` of IMAGE with the event and the system-linked handler mounted, and REPORTS,
# when set, writable at /reports.
in_image() { # <image> <command…>
  local image=$1
  shift
  "$docker" run --rm --network host -v "$work:/startup:ro" ${REPORTS:+-v "$REPORTS:/reports"} \
    -v "$work/gdal-lambda-system:/usr/local/bin/gdal-lambda-system:ro" --entrypoint sh "$image" -c "$@"
}
measure() { # <image> <handler path> <label> <shared libraries>
  # Each run writes its timings with --report into a directory of the host, read here.
  local reports
  reports=$(mktemp -d "$work/reports.XXXXXX")
  chmod 777 "$reports" # the image's user may not be root
  # Both with the one-file TLS roots the gdal-lambda image sets, so only GDAL differs.
  REPORTS=$reports in_image "$1" '
    export OUTPUT_URL=s3://startup/stac/ SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
    i=0
    while [ $i -lt '"$runs"' ]; do
      run-lambda exec '"$2"' --payload /startup/event.json --output /dev/null \
        --report /reports/$i.json >/reports/$i.log 2>&1 || { cat /reports/$i.log >&2; exit 1; }
      i=$((i + 1))
    done'
  python3 -c 'import json, sys; [print(json.load(open(f))["to_event_ms"]) for f in sys.argv[1:]]' \
    "$reports"/*.json >"$work/$3.ms"
  sort -n "$work/$3.ms" | awk -v label="$3" -v libs="$4" '{ v[NR] = $1 } END {
    printf "%-28s runs %2d  median %6.1f ms  min %6.1f ms  max %6.1f ms  shared libraries %s\n",
      label, NR, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR], libs }'
}

lean=localhost/stratus/gdal-lambda:test
system=localhost/stratus/run-geolambda:test
lean_libs=$(in_image "$lean" 'ldd /var/task/bootstrap | wc -l')
system_libs=$(in_image "$system" 'ldd /usr/local/bin/gdal-lambda-system | wc -l')
measure "$lean" /var/task/bootstrap "lean static GDAL" "$lean_libs"
measure "$system" /usr/local/bin/gdal-lambda-system "Debian libgdal (3.6.2)" "$system_libs"
