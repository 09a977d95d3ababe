# Stratus: `just` lists the recipes; `just demo` runs the main job on a local AWS (moto);
# `just test` runs everything CI runs. A recipe is named for what it does, then for the part
# it does it to (test, test-rust, lint-terraform, build-image, …); recipes that hand their
# arguments to one of our CLIs carry its subcommand's name (info, stac, exec).

set shell := ["bash", "-euo", "pipefail", "-c"]
set script-interpreter := ["bash", "-euo", "pipefail"]

export PATH := justfile_directory() / ".venv/bin" + ":" + env("PATH")

import 'just/images.just'
import 'just/run-lambda.just'
import 'just/terraform.just'
import 'just/bench.just'

[private]
default:
    @just --list --unsorted

# Upload a sample COG to a local S3 (moto) and run gdal-lambda on its S3 event through run-lambda
[group('everyday')]
demo:
    scripts/setup demo
    scripts/demo

# Run everything CI runs: lints, Rust, pgstac, scripts, Terraform, the arm64 check, images, a benchmark smoke run
[group('everyday')]
test: setup lint test-rust test-pgstac test-scripts test-terraform check-cross test-images test-bench

# Run every lint: rustfmt and clippy, checkov, hadolint, bash 3.2 safety of the build-and-push scripts
[group('everyday')]
lint: lint-rust lint-terraform lint-images lint-scripts

# Build the images (gdal-lambda; run-lambda, run-geolambda per runtime) into terraform/images.auto.tfvars.json
[group('everyday')]
[no-exit-message]
build:
    scripts/images/build.sh

# Push the built images to the deployment's ECR repositories and pin their digests in the tfvars file
[group('everyday')]
[no-exit-message]
push:
    python3 scripts/images/push.py

# Install what this machine lacks (apt: GDAL; .venv: moto, checkov, …); safe to rerun
[group('everyday')]
setup:
    scripts/setup

# Print a summary of a raster's metadata (local path or s3:// URL; --json: the full record)
[group('gdal-lambda')]
[no-cd]
info source *flags:
    cargo run -q --manifest-path {{ quote(justfile_directory() / "Cargo.toml") }} -p gdal-lambda -- info {{ quote(source) }} {{ flags }}

# Print a raster's STAC Item (local path or s3:// URL)
[group('gdal-lambda')]
[no-cd]
stac source:
    cargo run -q --manifest-path {{ quote(justfile_directory() / "Cargo.toml") }} -p gdal-lambda -- stac {{ quote(source) }}

# Items for the objects already under s3://bucket/prefix: an S3 Batch Operations job of the deployment (--engine distributed-map: its state machine; --dry-run: print the request), or --local on moto with the real binary (docs/backfill.md)
[group('gdal-lambda')]
[script]
backfill url *args:
    if [[ " {{ args }} " == *" --local "* ]]; then
      eval "$(scripts/gdal/host.sh)"
      cargo build -q --locked -p gdal-lambda -p run-lambda
    fi
    .venv/bin/python scripts/backfill.py {{ quote(url) }} {{ args }}

# Validate STAC Item files offline: core and extension schemas (stac-validator), geometry validity (shapely)
[group('gdal-lambda')]
[no-cd]
validate-stac +items:
    {{ quote(justfile_directory() / "scripts/validate-stac") }} {{ items }}

# Check a Cirrus process payload file with cirrus-geo's own validation, in each pinned release's environment (docs/destinations/cirrus.md)
[group('gdal-lambda')]
check-cirrus-payload file:
    for v in 1.3.2 2.0.0; do .venvs/cirrus-geo-$v/bin/python rust/gdal-lambda/tests/cirrus/check_payload.py validate < {{ quote(file) }}; done

# Run the Rust unit and integration tests on the GDAL the image ships (each test binary starts its own moto)
[group('rust')]
test-rust: gdal
    eval "$(scripts/gdal/host.sh)" && STRATUS_PYTHON="$PWD/.venv/bin/python" cargo test --workspace --locked

# Load gdal-lambda's Items (the real binary on moto) into pgstac on a throwaway PostgreSQL and check its searches
[group('gdal-lambda')]
test-pgstac: gdal
    eval "$(scripts/gdal/host.sh)" && cargo test -q --locked -p gdal-lambda -p run-lambda --no-run && \
      "${STRATUS_PYTHON:-.venv/bin/python}" scripts/pgstac/test_pgstac.py

# Build (or reuse) the image's GDAL for this machine into target/gdal/ (Docker; first build about 26 min)
[group('rust')]
gdal:
    scripts/gdal/host.sh --path

# Check the Rust code: rustfmt, clippy with warnings as errors, no import circle between modules
[group('rust')]
lint-rust: gdal
    cargo fmt --all -- --check
    eval "$(scripts/gdal/host.sh)" && cargo clippy --workspace --all-targets --locked -- -D warnings
    scripts/check-imports

# Format the Rust code
[group('rust')]
fmt:
    cargo fmt --all

# Test the scripts' helpers: moto launcher, engine leases, check-bash32, image tags, image-push logins
[group('scripts')]
test-scripts:
    scripts/lib/moto-test.sh
    scripts/images/engine-test.sh
    python3 -m unittest discover -s scripts/tests
    terraform/modules/image-push/tests/push-test.sh

# Check that the scripts `just build` and `terraform apply` run work with macOS's bash 3.2 and BSD tools
[group('scripts')]
lint-scripts:
    scripts/check-bash32
