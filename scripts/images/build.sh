#!/usr/bin/env bash
# `just build` / `just build-image <name>`: build the images for AWS with Docker alone (the Dockerfiles
# compile the binaries themselves), for linux/arm64 unless STRATUS_IMAGE_ARCH says amd64; tag them,
# check their architecture, and hand them to Terraform in terraform/images.auto.tfvars.json
# together with that architecture. run-lambda and run-geolambda are built once per Lambda runtime
# of images/runtimes, each on that row's base and tagged stratus/<name>:<tag>-<runtime without .x>.
#   scripts/images/build.sh [NAME[:RUNTIME]...]   (default: every image, every runtime)
#   e.g. build.sh gdal-lambda run-lambda:python3.13 run-lambda:nodejs22.x
# Environment:
#   STRATUS_IMAGE_ARCH    arm64 (default, Graviton) or amd64
#   STRATUS_RUNTIMES      only these runtimes of run-lambda and run-geolambda (e.g. "python3.13 nodejs22.x")
#   STRATUS_RUNTIMES_FILE the runtimes and their bases (default images/runtimes)
#   STRATUS_CA_BUNDLE     a CA bundle for the builds' downloads (behind a TLS-inspecting proxy),
#                         passed as the build secret `ca`, never stored in an image
#   STRATUS_BUILD_ARGS    more arguments for the builds (e.g. --build-arg RUST_IMAGE=…)
#   STRATUS_TFVARS        where the hand-over goes (default terraform/images.auto.tfvars.json)
#   DOCKER_CLI            the docker CLI (default: docker)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/images/lib.sh

all=(gdal-lambda run-lambda run-geolambda)
runtimes_file=${STRATUS_RUNTIMES_FILE:-images/runtimes}
# The rows of the runtimes table for image NAME (optionally one RUNTIME): "runtime base
# [lifecycle]" lines (lifecycle: deprecated:<date> or preview).
rows() { # <name> [runtime]
  awk -v n="$1" -v r="${2:-}" '!/^#/ && (NF == 3 || NF == 4) && $1 == n && (r == "" || $2 == r) { print $2, $3, $4 }' "$runtimes_file"
}
(($#)) || set -- "${all[@]}" # bash32: never empty
# What to build: "name runtime base" lines (runtime and base "-" for gdal-lambda).
builds=()
for arg in "$@"; do
  name=${arg%%:*} runtime=""
  [[ $arg == *:* ]] && runtime=${arg#*:}
  [[ " ${all[*]} " == *" $name "* ]] || { echo "build: unknown image '$name' (one of: ${all[*]})" >&2; exit 2; } # bash32: never empty
  if [[ $name == gdal-lambda ]]; then
    [[ -z $runtime ]] || { echo "build: gdal-lambda has no runtimes" >&2; exit 2; }
    builds+=("gdal-lambda - -")
    continue
  fi
  found=$(rows "$name" "$runtime")
  [[ -n $found ]] || { echo "build: $runtimes_file has no $name${runtime:+ for $runtime} (its runtimes: $(rows "$name" | cut -d' ' -f1 | xargs))" >&2; exit 2; }
  while read -r rt base lifecycle; do
    [[ -z $runtime && -n ${STRATUS_RUNTIMES:-} && " $STRATUS_RUNTIMES " != *" $rt "* ]] && continue
    case $lifecycle in
      deprecated:*) echo "build: $rt is deprecated by Lambda (${lifecycle#deprecated:}): $name is built for existing functions on it" >&2 ;;
      preview) echo "build: $rt is a Lambda preview runtime: its $name image is not for production" >&2 ;;
    esac
    builds+=("$name $rt $base")
  done <<<"$found"
done
((${#builds[@]})) || { echo "build: nothing to build: STRATUS_RUNTIMES=\"${STRATUS_RUNTIMES:-}\" names none of the runtimes asked for" >&2; exit 2; }
arch=${STRATUS_IMAGE_ARCH:-arm64}
rust_triple "$arch" >/dev/null

docker=${DOCKER_CLI:-docker}
command -v "$docker" >/dev/null && "$docker" info >/dev/null 2>&1 \
  || { echo "build: no Docker engine answers ($docker): install Docker (docs/deploy.md)" >&2; exit 1; }
# Lambda takes a single image manifest: buildx must not wrap it in an index with attestations.
if "$docker" buildx version >/dev/null 2>&1; then
  build=("$docker" buildx build --provenance=false --sbom=false --load)
else
  echo "build: no buildx plugin: building with DOCKER_BUILDKIT=1 docker build (BuildKit, one platform)" >&2
  build=(env DOCKER_BUILDKIT=1 "$docker" build)
fi
extra=(--platform "linux/$arch") # never empty: bash 3.2 calls an empty array unbound
[[ -n ${STRATUS_CA_BUNDLE:-} ]] && extra+=(--secret "id=ca,src=$STRATUS_CA_BUNDLE")
# shellcheck disable=SC2206 # a word list on purpose
[[ -n ${STRATUS_BUILD_ARGS:-} ]] && extra+=($STRATUS_BUILD_ARGS)

tag=$(image_tag "$arch")
built_keys=()
for item in "${builds[@]}"; do # bash32: never empty (checked above)
  read -r name runtime base <<<"$item"
  image=stratus/$name:$tag
  args=()
  if [[ $runtime != - ]]; then
    image+=-${runtime%.x}
    args=(--build-arg "RUNTIME=$runtime" --build-arg "BASE_IMAGE=$base")
  fi
  echo "build: $image (linux/$arch${args[*]+, $runtime on $base})"
  start=$SECONDS
  if ! "${build[@]}" -f "images/$name/Dockerfile" -t "$image" "${extra[@]}" "${args[@]+"${args[@]}"}" .; then # bash32: never empty (build, extra: set above)
    [[ $base == public.ecr.aws/* ]] && echo "build: if $base cannot be pulled, refresh its pin in $runtimes_file" >&2
    exit 1
  fi
  built=$("$docker" image inspect --format '{{.Os}}/{{.Architecture}}' "$image")
  [[ $built == "linux/$arch" ]] || { echo "build: $image is $built, not linux/$arch" >&2; exit 1; }
  echo "build: $image built in $((SECONDS - start)) s"
  key=${name//-/_}
  [[ $runtime != - ]] && key+=/$runtime
  built_keys+=("$key $image")
done

# Hand the tags and their architecture to Terraform: "images" maps gdal_lambda and
# <image>/<runtime> (run_lambda/python3.13) to local tags; an image not rebuilt keeps its entry
# if it was built for the same architecture. Plain bash and awk (no python or jq on the host):
# the file is ours, one "key": "value" per line.
tfvars=${STRATUS_TFVARS:-terraform/images.auto.tfvars.json}
kept=""
if [[ -f $tfvars ]] && grep -q "\"image_architecture\": \"$arch\"" "$tfvars"; then
  kept=$(sed -n 's/^ *"\([a-z_]*\(\/[a-z0-9.]*\)\{0,1\}\)": *"\([^"]*\)".*/\1 \3/p' "$tfvars" | grep -v '^image_architecture ' || true)
fi
{
  echo '{'
  echo '  "images": {'
  { [[ -n $kept ]] && echo "$kept"; printf '%s\n' "${built_keys[@]}"; } | # bash32: never empty (one per build)
    awk '{ v[$1] = $2 } END { for (k in v) print k, v[k] }' | sort \
    | awk '{ printf "%s    \"%s\": \"%s\"", (NR > 1 ? ",\n" : ""), $1, $2 } END { print "" }'
  echo '  },'
  # push_images is left out: local tags, which the apply pushes (it defaults to true).
  echo "  \"image_architecture\": \"$arch\""
  echo '}'
} >"$tfvars.tmp"
mv "$tfvars.tmp" "$tfvars"
grep -q '"gdal_lambda"' "$tfvars" || missing=" gdal_lambda"
echo "build: wrote $tfvars ($arch)${missing:+; still missing:$missing (\`just build\`)}"
