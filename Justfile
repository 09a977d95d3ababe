# Stratus: `just` lists the recipes; `just demo` runs the main job on a local
# AWS (moto); `just test` runs everything CI runs.

set shell := ["bash", "-euo", "pipefail", "-c"]

export PATH := justfile_directory() / ".venv/bin" + ":" + env("PATH")

import? 'just/images.just'
import? 'just/run-lambda.just'
import? 'just/terraform.just'

# List the recipes
default:
    @just --list --unsorted

# Install what this machine lacks (apt: GDAL; .venv: moto, awslambdaric, …); safe to rerun
setup:
    scripts/setup

# Upload a sample COG to a local S3 (moto) and run gdal-lambda on its S3 event through run-lambda
demo: setup
    scripts/demo

# Run the whole suite: lint, Rust tests on moto, Terraform (fmt, validate, tests, checkov, moto round trip), images (Docker, a loopback registry), a benchmark smoke run
test: setup lint test-rust test-terraform test-images test-bench

# Rust unit and integration tests (each test binary starts its own moto on loopback)
test-rust:
    STRATUS_PYTHON="$PWD/.venv/bin/python" cargo test --workspace --locked

# Formatting and lints (rustfmt, clippy with warnings as errors)
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Benchmarks side by side with the alternatives (see docs/benchmarks.md; `just bench --help`)
bench *args: setup
    scripts/bench {{args}}

# A smoke run of the benchmark harness (`just bench --quick`, results in target/bench-quick; timings never fail it)
test-bench: setup
    BENCH_PROFILE=dev scripts/bench --quick

# Format the Rust code
fmt:
    cargo fmt --all

# Validate STAC Item files with stac-validator (offline: core schemas)
validate-stac +items:
    scripts/validate-stac {{items}}

# Print a raster's metadata (local path or s3:// URL)
info source:
    cargo run -q -p gdal-lambda -- info {{quote(source)}}

# Print a raster's STAC Item (local path or s3:// URL)
stac source:
    cargo run -q -p gdal-lambda -- stac {{quote(source)}}
