//! Helpers shared by the integration tests: the binary, the test functions,
//! zips, and moto (S3, Lambda, IAM, Batch on loopback).

// Test helpers: a failed setup step should panic with its error, like the tests themselves.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use local_aws::LocalAws;

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The runner binary.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_run-lambda")
}

/// The `echo-function` example (a `lambda_runtime` function); built when missing
/// or older than its source (`cargo test` alone builds it with the rest).
pub fn echo_function() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        // target/debug/deps/<test> → target/debug/examples/echo-function
        let exe = std::env::current_exe().unwrap();
        let path = exe
            .parent()
            .and_then(Path::parent)
            .unwrap()
            .join("examples/echo-function");
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/echo-function.rs");
        if modified(&path) < modified(&source) {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args([
                    "build",
                    "-q",
                    "-p",
                    "run-lambda",
                    "--example",
                    "echo-function",
                ])
                .status()
                .unwrap();
            assert!(status.success(), "building echo-function failed");
        }
        path
    })
    .clone()
}

/// The project's Python (with awslambdaric and boto3).
pub fn python() -> PathBuf {
    local_aws::python()
}

/// The last line of the traceback Python prints for `code`, run with the
/// Python test function's directory on the path: the independent truth for
/// the name a Python error is reported under.
pub fn python_traceback_last_line(code: &str) -> String {
    let out = Command::new(python())
        .args(["-c", code])
        .env("PYTHONPATH", format!("{FIXTURES}/python"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{code} did not raise");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string()
}

/// The Node.js runtime interface client (`aws-lambda-ric`) that `scripts/setup`
/// installs from `node/package-lock.json`, unless `STRATUS_NODE_RIC` names another.
pub fn node_client() -> PathBuf {
    std::env::var_os("STRATUS_NODE_RIC")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../node/node_modules/aws-lambda-ric")
        })
}

/// `major.minor` of `program` (the interpreter the tests run functions on) as
/// it reports itself: `python -c` or `node --version`.
fn version_of(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program} {args:?} failed");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches('v')
        .to_string()
}

/// The Lambda runtime of the Python the tests use (`python3.11` for Python 3.11.7).
pub fn python_runtime() -> String {
    let python = python();
    let v = version_of(
        python.to_str().unwrap(),
        &["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
    );
    format!("python{v}")
}

/// The major version of this machine's Node.js (`20` for v20.20.2).
pub fn node_major() -> u32 {
    let v = version_of("node", &["--version"]);
    v.split('.').next().unwrap().parse().unwrap()
}

/// The result of running the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The last non-empty line the runner printed (on stderr).
    pub fn last_line(&self) -> &str {
        self.stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
    }

    /// Asserts that the last line starts with `prefix`, showing the line if not.
    pub fn assert_last_line_starts_with(&self, prefix: &str) {
        assert!(self.last_line().starts_with(prefix), "{}", self.last_line());
    }

    /// Asserts that the last line contains `part`, showing the line if not.
    pub fn assert_last_line_contains(&self, part: &str) {
        assert!(self.last_line().contains(part), "{}", self.last_line());
    }

    /// Asserts that the last line ends with `suffix`, showing the line if not.
    pub fn assert_last_line_ends_with(&self, suffix: &str) {
        assert!(self.last_line().ends_with(suffix), "{}", self.last_line());
    }

    pub fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code, code,
            "exit code {} (want {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
    }
}

/// Run `run-lambda ARGS` with the moto environment, our Python and our Node.js client.
pub fn run_lambda(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .envs(LocalAws::shared().env())
        .env("STRATUS_PYTHON", python())
        .env("STRATUS_NODE_RIC", node_client())
        .env_remove("RUST_BACKTRACE")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out: Output = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A zip of `(name, content, mode)` entries.
pub fn zip_of(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content, mode) in entries {
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
        w.start_file(*name, opts).unwrap();
        w.write_all(content).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The Python test function as a zip.
pub fn python_zip() -> Vec<u8> {
    let task = std::fs::read(format!("{FIXTURES}/python/task.py")).unwrap();
    zip_of(&[("task.py", &task, 0o644)])
}

/// A layer zip with `python/layerlib.py`.
pub fn layer_zip() -> Vec<u8> {
    let lib = std::fs::read(format!("{FIXTURES}/layer/python/layerlib.py")).unwrap();
    zip_of(&[("python/layerlib.py", &lib, 0o644)])
}

/// The Node.js test function (`index.js`, `esm.mjs`) as a zip.
pub fn node_zip() -> Vec<u8> {
    let index = std::fs::read(format!("{FIXTURES}/node/index.js")).unwrap();
    let esm = std::fs::read(format!("{FIXTURES}/node/esm.mjs")).unwrap();
    zip_of(&[("index.js", &index, 0o644), ("esm.mjs", &esm, 0o644)])
}

/// A layer zip with Node.js modules where Lambda looks for them:
/// `nodejs/node_modules/layerlib` and `nodejs/node20/node_modules/versioned`.
pub fn node_layer_zip() -> Vec<u8> {
    let files = [
        "nodejs/node_modules/layerlib/index.js",
        "nodejs/node20/node_modules/versioned/index.js",
    ];
    let contents: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(format!("{FIXTURES}/layer/{f}")).unwrap())
        .collect();
    let entries: Vec<(&str, &[u8], u32)> = files
        .iter()
        .zip(&contents)
        .map(|(f, c)| (*f, c.as_slice(), 0o644))
        .collect();
    zip_of(&entries)
}

/// A provided.al2023 code zip whose `bootstrap` starts echo-function.
pub fn provided_zip() -> Vec<u8> {
    let script = format!("#!/bin/sh\nexec {} \"$@\"\n", echo_function().display());
    zip_of(&[("bootstrap", script.as_bytes(), 0o755)])
}

/// The base64 SHA-256 Lambda reports.
pub fn sha256_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// A name no other test of this run uses (functions, buckets).
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A tokio runtime for SDK calls in synchronous tests.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An IAM role moto accepts for CreateFunction (created once, with boto3).
pub fn role_arn() -> String {
    static ROLE: OnceLock<String> = OnceLock::new();
    ROLE.get_or_init(|| {
        let aws = LocalAws::shared();
        let script = r#"
import boto3, sys
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
try:
    role = iam.create_role(RoleName="run-lambda-test", AssumeRolePolicyDocument="{}")
except iam.exceptions.EntityAlreadyExistsException:
    role = iam.get_role(RoleName="run-lambda-test")
print(role["Role"]["Arn"])
"#;
        let out =
            local_aws::checked_output(Command::new(python()).args(["-c", script, &aws.endpoint()]));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
    .clone()
}

pub async fn lambda_client() -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&LocalAws::shared().sdk_config().await)
}

/// A function definition for moto.
pub struct NewFunction<'a> {
    pub name: &'a str,
    pub runtime: aws_sdk_lambda::types::Runtime,
    pub handler: &'a str,
    pub zip: &'a [u8],
    pub env: &'a [(&'a str, &'a str)],
    pub layers: &'a [String],
}

impl<'a> NewFunction<'a> {
    /// `name`, a Python 3.11 function with the code `zip` (`task.handler`, as
    /// in the Python test function), no variables and no layers.
    pub fn python(name: &'a str, zip: &'a [u8]) -> Self {
        NewFunction {
            name,
            runtime: aws_sdk_lambda::types::Runtime::Python311,
            handler: "task.handler",
            zip,
            env: &[],
            layers: &[],
        }
    }
}

/// Create a function in moto (code uploaded as a zip).
pub async fn create_function(f: NewFunction<'_>) -> String {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{Environment, FunctionCode};
    let mut env = Environment::builder();
    for (k, v) in f.env {
        env = env.variables(*k, *v);
    }
    let out = lambda_client()
        .await
        .create_function()
        .function_name(f.name)
        .runtime(f.runtime)
        .role(role_arn())
        .handler(f.handler)
        .memory_size(512)
        .timeout(30)
        .environment(env.build())
        .set_layers(Some(f.layers.to_vec()))
        .code(FunctionCode::builder().zip_file(Blob::new(f.zip)).build())
        .send()
        .await
        .unwrap();
    out.function_arn().unwrap().to_string()
}

/// Publish a layer version in moto; returns its version ARN.
pub async fn publish_layer(name: &str, zip: &[u8]) -> String {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::LayerVersionContentInput;
    let out = lambda_client()
        .await
        .publish_layer_version()
        .layer_name(name)
        .content(
            LayerVersionContentInput::builder()
                .zip_file(Blob::new(zip))
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.layer_version_arn().unwrap().to_string()
}

/// Put bytes on moto S3; returns `s3://bucket/key`.
pub async fn put(bucket: &str, key: &str, body: Vec<u8>) -> String {
    LocalAws::shared()
        .s3()
        .await
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
    format!("s3://{bucket}/{key}")
}

/// Read an object from moto S3 (None when missing).
pub async fn get(bucket: &str, key: &str) -> Option<Vec<u8>> {
    let out = LocalAws::shared()
        .s3()
        .await
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    Some(out.body.collect().await.unwrap().into_bytes().to_vec())
}

/// A presigned GET URL of an object on moto (what `Code.Location` is in AWS).
pub async fn presigned(bucket: &str, key: &str) -> String {
    let config =
        aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(600)).unwrap();
    LocalAws::shared()
        .s3()
        .await
        .get_object()
        .bucket(bucket)
        .key(key)
        .presigned(config)
        .await
        .unwrap()
        .uri()
        .to_string()
}

/// Whether a process id is still alive (and not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// Wait up to `secs` for `pid` to be gone.
pub fn gone_within(pid: u32, secs: u64) -> bool {
    for _ in 0..secs * 20 {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Gzip bytes (payloads stored as `.json.gz`).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}
