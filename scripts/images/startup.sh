#!/usr/bin/env bash
# Start-up of the gdal-lambda handler inside its image: the time from run-lambda starting the
# process to the handler's first `GET /runtime/invocation/next` (run-lambda's `to_event_ms`),
# for the image's lean static GDAL and, for comparison, the same handler linked with Debian's
# libgdal (run in the run-geolambda image, which carries that libgdal). Images from
# `just test-images` (localhost/stratus/*:test). RUNS (default 20) launches each; prints the median.
#   scripts/images/startup.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
runs=${RUNS:-20}
out=target/images/cargo
work=$(mktemp -d)
containers=()
cleanup() {
  ((${#containers[@]})) && buildah rm "${containers[@]}" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

for image in gdal-lambda run-geolambda; do
  buildah inspect --type image "localhost/stratus/$image:test" >/dev/null 2>&1 \
    || { echo "startup: localhost/stratus/$image:test is missing: run \`just test-images\` first" >&2; exit 1; }
done

echo "startup: building gdal-lambda against the system GDAL for comparison"
cargo build --release --locked -q -j "${CARGO_BUILD_JOBS:-2}" --target-dir "$out" -p gdal-lambda
cp "$out/release/gdal-lambda" "$work/gdal-lambda-system"

# An S3 test event: acknowledged without touching S3, so only the start-up is measured.
echo '{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-06-01T10:30:00.000Z","Bucket":"b","RequestId":"r","HostId":"h"}' >"$work/event.json"
measure() { # <container> <handler path> <label>
  buildah copy --quiet "$1" "$work/event.json" /tmp/startup-event.json >/dev/null
  # Both with the one-file TLS roots the gdal-lambda image sets, so only GDAL differs.
  buildah run --isolation chroot --env RUNS="$runs" --env OUTPUT_URL=s3://startup/stac/ \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "$1" -- sh -c '
    i=0
    while [ $i -lt "$RUNS" ]; do
      run-lambda exec "$0" --payload /tmp/startup-event.json --output /dev/null 2>&1 \
        | sed -n "s/.*function returned.*to_event_ms=\([0-9.]*\).*/\1/p"
      i=$((i + 1))
    done' "$2" >"$work/$3.ms"
  sort -n "$work/$3.ms" | awk -v label="$3" -v libs="$4" '{ v[NR] = $1 } END {
    printf "%-28s runs %2d  median %6.1f ms  min %6.1f ms  max %6.1f ms  shared libraries %s\n",
      label, NR, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR], libs }'
}

lean=$(buildah from --quiet localhost/stratus/gdal-lambda:test); containers+=("$lean")
system=$(buildah from --quiet localhost/stratus/run-geolambda:test); containers+=("$system")
buildah copy --quiet --chmod 755 "$system" "$work/gdal-lambda-system" /usr/local/bin/gdal-lambda-system >/dev/null
lean_libs=$(buildah run --isolation chroot "$lean" -- sh -c 'ldd /var/task/bootstrap | wc -l')
system_libs=$(buildah run --isolation chroot "$system" -- sh -c 'ldd /usr/local/bin/gdal-lambda-system | wc -l')
measure "$lean" /var/task/bootstrap "lean static GDAL" "$lean_libs"
measure "$system" /usr/local/bin/gdal-lambda-system "Debian libgdal (3.6.2)" "$system_libs"
