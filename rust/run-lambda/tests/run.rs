//! `run-lambda run` against moto: functions created with real zips, their
//! configuration and `CodeSha256` from `GetFunction`, payloads and outputs on
//! S3. moto's own `Code.Location` points at AWS and is never fetched here:
//! every test passes `--code` (a presigned URL on moto, or an s3:// URL).

// Setup helpers in this test crate panic on failure, like the tests do.
#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_lambda::types::Runtime as LambdaRuntime;
use common::*;
use local_aws::LocalAws;
use serde_json::Value;

/// A Python function in moto, its code on S3, and a bucket for payloads.
struct PyFunction {
    name: String,
    arn: String,
    bucket: String,
    code_s3: String,
    code_url: String,
}

async fn python_function(env: &[(&str, &str)], layers: &[String]) -> PyFunction {
    let name = unique("task");
    let zip = python_zip();
    let arn = create_function(NewFunction {
        env,
        layers,
        ..NewFunction::python(&name, &zip)
    })
    .await;
    let bucket = LocalAws::shared().new_bucket("run").await;
    let code_s3 = put(&bucket, "code/task.zip", zip).await;
    let code_url = presigned(&bucket, "code/task.zip").await;
    PyFunction {
        name,
        arn,
        bucket,
        code_s3,
        code_url,
    }
}

/// `run-lambda run FUNCTION URL --code CODE EXTRA…`.
fn run_function(function: &str, url: &str, code: &str, extra: &[&str]) -> Run {
    let mut args = vec!["run", function, url, "--code", code];
    args.extend_from_slice(extra);
    run_lambda(&args, &[], None)
}

fn cirrus_payload() -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/cirrus-payload.json")).unwrap()
}

#[test]
fn cirrus_payload_round_trips_through_a_python_function() {
    let rt = rt();
    let f = rt.block_on(python_function(&[], &[]));
    let payload = cirrus_payload();
    let url = rt.block_on(put(&f.bucket, "batch/cog/abc.json", payload.clone()));
    // The presigned URL exercises the HTTP download path, as Code.Location does in AWS.
    let r = run_function(&f.name, &url, &f.code_url, &[]);
    r.assert_code(0);
    let out = rt
        .block_on(get(&f.bucket, "batch/cog/abc_out.json"))
        .unwrap();
    let out: Value = serde_json::from_slice(&out).unwrap();
    let input: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(out["type"], "FeatureCollection");
    assert_eq!(out["process"], input["process"]);
    assert_eq!(out["features"][0]["properties"]["processed"], true);
    // The input is untouched.
    assert_eq!(
        rt.block_on(get(&f.bucket, "batch/cog/abc.json")).unwrap(),
        payload
    );
    assert!(r.stdout.contains("task.handler: mode echo"), "{}", r.stdout);
}

#[test]
fn the_function_sees_its_configuration_and_the_jobs_credentials() {
    let rt = rt();
    let f = rt.block_on(python_function(&[("MY_SETTING", "configured")], &[]));
    let url = rt.block_on(put(&f.bucket, "in.json", br#"{"x":1}"#.to_vec()));
    let out_url = format!("s3://{}/elsewhere/result.json", f.bucket);
    // A full ARN, an s3:// code URL and an explicit output.
    let r = run_function(&f.arn, &url, &f.code_s3, &["--output", &out_url]);
    r.assert_code(0);
    let out: Value = serde_json::from_slice(
        &rt.block_on(get(&f.bucket, "elsewhere/result.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out["echo"], serde_json::json!({"x": 1}));
    assert_eq!(out["function_arn"], f.arn.as_str());
    assert_eq!(out["function_name"], f.name.as_str());
    assert_eq!(out["memory_limit_in_mb"], "512");
    assert_eq!(out["env"]["MY_SETTING"], "configured");
    assert_eq!(out["env"]["AWS_REGION"], "us-east-1");
    // Credentials are the runner's (the job role's), as the environment gave them.
    assert_eq!(out["env"]["AWS_ACCESS_KEY_ID"], "test");
    // No timeout by default, whatever Lambda's configured 30 s.
    assert!(out["remaining_ms"].as_i64().unwrap() > 3600 * 1000);
}

#[test]
fn python_function_error_is_the_last_line_and_writes_nothing() {
    let rt = rt();
    let f = rt.block_on(python_function(&[], &[]));
    let url = rt.block_on(put(
        &f.bucket,
        "p/err.json",
        br#"{"mode":"error"}"#.to_vec(),
    ));
    let r = run_function(&f.name, &url, &f.code_url, &[]);
    r.assert_code(3);
    // The last line is the one Python's own traceback ends with: the
    // exception's module-qualified name, which Cirrus reads.
    assert_eq!(
        r.last_line(),
        "task.InvalidInput: the payload has no features"
    );
    assert_eq!(
        r.last_line(),
        python_traceback_last_line("import task; task.handler({'mode': 'error'}, None)")
    );
    assert!(rt.block_on(get(&f.bucket, "p/err_out.json")).is_none());
}

#[test]
fn provided_function_with_a_lambda_runtime_bootstrap() {
    let rt = rt();
    let name = unique("provided");
    let zip = provided_zip();
    rt.block_on(create_function(NewFunction {
        name: &name,
        runtime: LambdaRuntime::Providedal2023,
        handler: "bootstrap",
        zip: &zip,
        env: &[("MY_SETTING", "rust")],
        layers: &[],
    }));
    let bucket = rt.block_on(LocalAws::shared().new_bucket("prov"));
    let code = rt.block_on(put(&bucket, "code.zip", zip));
    let url = rt.block_on(put(&bucket, "in/a.json.gz", gzip(br#"{"n":42}"#)));
    let r = run_function(&name, &url, &code, &[]);
    r.assert_code(0);
    // Gzip in, gzip out: a_out.json.gz.
    let out = rt.block_on(get(&bucket, "in/a_out.json.gz")).unwrap();
    let mut json = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&out[..]), &mut json).unwrap();
    let v: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["echo"]["n"], 42);
    assert_eq!(v["env"]["MY_SETTING"], "rust");
    assert_eq!(v["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "512");

    let url = rt.block_on(put(
        &bucket,
        "in/crash.json",
        br#"{"mode":"exit"}"#.to_vec(),
    ));
    let r = run_function(&name, &url, &code, &[]);
    r.assert_code(5);
    r.assert_last_line_starts_with("Runtime.ExitError: ");

    let url = rt.block_on(put(
        &bucket,
        "in/hang.json",
        br#"{"mode":"sleep"}"#.to_vec(),
    ));
    let r = run_function(&name, &url, &code, &["--timeout", "1"]);
    r.assert_code(6);
    assert!(rt.block_on(get(&bucket, "in/hang_out.json")).is_none());
}

#[test]
fn node_function_runs_on_aws_lambda_ric() {
    let rt = rt();
    let name = unique("node");
    let zip = node_zip();
    rt.block_on(create_function(NewFunction {
        name: &name,
        runtime: LambdaRuntime::Nodejs20x,
        handler: "index.handler",
        zip: &zip,
        env: &[("MY_SETTING", "node")],
        layers: &[],
    }));
    let bucket = rt.block_on(LocalAws::shared().new_bucket("node"));
    let code = rt.block_on(put(&bucket, "code.zip", zip));
    let url = rt.block_on(put(&bucket, "in/n.json", br#"{"n":20}"#.to_vec()));
    let r = run_function(&name, &url, &code, &[]);
    r.assert_code(0);
    let out: Value =
        serde_json::from_slice(&rt.block_on(get(&bucket, "in/n_out.json")).unwrap()).unwrap();
    assert_eq!(out["echo"]["n"], 20);
    assert_eq!(out["function_name"], name.as_str());
    assert_eq!(out["memory_limit_in_mb"], "512");
    assert_eq!(out["env"]["MY_SETTING"], "node");
    assert_eq!(out["env"]["AWS_EXECUTION_ENV"], "AWS_Lambda_nodejs20.x");
    // The function's console output is the job's log.
    assert!(
        r.stdout.contains("index.handler: mode echo"),
        "{}",
        r.stdout
    );
}

#[test]
fn code_that_does_not_match_code_sha256_is_refused() {
    let rt = rt();
    let f = rt.block_on(python_function(&[], &[]));
    let other = zip_of(&[(
        "task.py",
        b"def handler(e, c):\n    return {'other': True}\n",
        0o644,
    )]);
    let other_url = rt.block_on(put(&f.bucket, "code/other.zip", other.clone()));
    let url = rt.block_on(put(&f.bucket, "in.json", b"{}".to_vec()));
    let r = run_function(&f.name, &url, &other_url, &[]);
    r.assert_code(13);
    let expected = sha256_b64(&python_zip());
    assert!(
        r.last_line().starts_with("CodeChecksumMismatch: ")
            && r.last_line().contains(&expected)
            && r.last_line().contains(&sha256_b64(&other))
            && r.last_line().contains("--no-verify-code"),
        "{}",
        r.last_line()
    );
    // New code against the function's configuration, on purpose.
    let r = run_function(&f.name, &url, &other_url, &["--no-verify-code"]);
    r.assert_code(0);
    let out = rt.block_on(get(&f.bucket, "in_out.json")).unwrap();
    assert_eq!(out, br#"{"other": true}"#);
}

/// Create a Python function whose code is `zip` and run it with that code.
fn run_with_code(zip: Vec<u8>, extra: &[&str]) -> Run {
    let rt = rt();
    let name = unique("bad");
    rt.block_on(create_function(NewFunction::python(&name, &zip)));
    let bucket = rt.block_on(LocalAws::shared().new_bucket("bad"));
    let code = rt.block_on(put(&bucket, "code.zip", zip));
    let url = rt.block_on(put(&bucket, "in.json", b"{}".to_vec()));
    run_function(&name, &url, &code, extra)
}

#[test]
fn zip_slip_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let workdir = tmp.path().join("work");
    let r = run_with_code(
        zip_of(&[("task.py", b"x", 0o644), ("../../escaped.py", b"x", 0o644)]),
        &["--workdir", workdir.to_str().unwrap()],
    );
    r.assert_code(13);
    assert!(
        r.last_line().starts_with("UnsafeArchive: ") && r.last_line().contains("escapes"),
        "{}",
        r.last_line()
    );
    assert!(!tmp.path().join("escaped.py").exists());
    assert!(!workdir.join("escaped.py").exists());
}

#[test]
fn links_out_of_the_task_root_are_refused() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.add_symlink("task.py", "/etc/passwd", opts).unwrap();
    let zip = w.finish().unwrap().into_inner();
    let r = run_with_code(zip, &[]);
    r.assert_code(13);
    r.assert_last_line_contains("outside");
}

#[test]
fn zip_bombs_and_oversized_code_are_refused() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("zeros.bin", opts).unwrap();
    std::io::Write::write_all(&mut w, &vec![0u8; 16 << 20]).unwrap();
    let bomb = w.finish().unwrap().into_inner();
    let r = run_with_code(bomb, &[]);
    r.assert_code(13);
    r.assert_last_line_contains("zip bomb");

    let r = run_with_code(python_zip(), &["--max-unzipped-bytes", "100"]);
    r.assert_code(13);
    r.assert_last_line_contains("limit of 100 bytes");
}

#[test]
fn layers_come_from_get_layer_version() {
    let rt = rt();
    let layer = layer_zip();
    let layer_arn = rt.block_on(publish_layer(&unique("pylib"), &layer));
    let f = rt.block_on(python_function(&[], std::slice::from_ref(&layer_arn)));
    let layer_url = rt.block_on(put(&f.bucket, "layers/pylib.zip", layer));
    let url = rt.block_on(put(&f.bucket, "l.json", br#"{"mode":"layer"}"#.to_vec()));
    let layer_code = format!("{layer_arn}={layer_url}");
    let r = run_function(&f.name, &url, &f.code_url, &["--layer-code", &layer_code]);
    r.assert_code(0);
    let out: Value =
        serde_json::from_slice(&rt.block_on(get(&f.bucket, "l_out.json")).unwrap()).unwrap();
    assert_eq!(out["layer"], "from the layer");

    // moto's layer location is not downloadable: the error says what to do.
    let r = run_function(&f.name, &url, &f.code_url, &[]);
    r.assert_code(13);
    r.assert_last_line_contains("--layer-code");

    // A layer archive that is not the published one.
    let wrong = rt.block_on(put(&f.bucket, "layers/wrong.zip", python_zip()));
    let r = run_function(
        &f.name,
        &url,
        &f.code_url,
        &["--layer-code", &format!("{layer_arn}={wrong}")],
    );
    r.assert_code(13);
    r.assert_last_line_starts_with("CodeChecksumMismatch: ");
}

#[test]
fn payload_pointers_are_followed() {
    let rt = rt();
    let f = rt.block_on(python_function(&[], &[]));
    let real = rt.block_on(put(
        &f.bucket,
        "real/payload.json.gz",
        gzip(&cirrus_payload()),
    ));
    let pointer = serde_json::json!({ "url": real }).to_string();
    let url = rt.block_on(put(&f.bucket, "ptr/p.json", pointer.into_bytes()));
    let r = run_function(&f.name, &url, &f.code_url, &[]);
    r.assert_code(0);
    let out: Value =
        serde_json::from_slice(&rt.block_on(get(&f.bucket, "ptr/p_out.json")).unwrap()).unwrap();
    assert_eq!(out["features"][0]["properties"]["processed"], true);
}

#[test]
fn bad_payloads_are_invalid_input() {
    let rt = rt();
    let f = rt.block_on(python_function(&[], &[]));
    let missing = format!("s3://{}/nope.json", f.bucket);
    let r = run_function(&f.name, &missing, &f.code_url, &[]);
    r.assert_code(9);
    r.assert_last_line_starts_with("InvalidInput: ");

    let url = rt.block_on(put(&f.bucket, "broken.json", b"{\"type\": ".to_vec()));
    let r = run_function(&f.name, &url, &f.code_url, &[]);
    r.assert_code(9);
    r.assert_last_line_contains("not valid JSON");

    let url = rt.block_on(put(&f.bucket, "notgz.json.gz", b"{}".to_vec()));
    let r = run_function(&f.name, &url, &f.code_url, &[]);
    r.assert_code(9);
}

#[test]
fn function_not_found() {
    let rt = rt();
    let bucket = rt.block_on(LocalAws::shared().new_bucket("nf"));
    let url = rt.block_on(put(&bucket, "in.json", b"{}".to_vec()));
    let r = run_lambda(&["run", "no-such-function", &url], &[], None);
    r.assert_code(11);
    r.assert_last_line_starts_with("ResourceNotFound: ");
}

#[test]
fn output_failures_fail_the_run() {
    let rt = rt();
    let f = rt.block_on(python_function(&[], &[]));
    let url = rt.block_on(put(&f.bucket, "o.json", b"{}".to_vec()));
    let r = run_function(
        &f.name,
        &url,
        &f.code_url,
        &["--output", "s3://no-such-bucket-rl/o.json"],
    );
    r.assert_code(8);
    r.assert_last_line_starts_with("OutputWriteError: ");
    // Writing over the input is refused before anything runs.
    let r = run_lambda(&["run", &f.name, &url, "--output", &url], &[], None);
    r.assert_code(2);
}

#[test]
fn unsupported_functions_are_explained() {
    let rt = rt();
    let name = unique("java");
    let zip = zip_of(&[("Handler.class", b"\xca\xfe\xba\xbe", 0o644)]);
    rt.block_on(create_function(NewFunction {
        name: &name,
        runtime: LambdaRuntime::Java21,
        handler: "example.Handler::handleRequest",
        zip: &zip,
        env: &[],
        layers: &[],
    }));
    let bucket = rt.block_on(LocalAws::shared().new_bucket("java"));
    let url = rt.block_on(put(&bucket, "in.json", b"{}".to_vec()));
    let r = run_lambda(&["run", &name, &url], &[], None);
    r.assert_code(14);
    assert!(
        r.last_line().starts_with("UnsupportedFunction: ") && r.last_line().contains("java21"),
        "{}",
        r.last_line()
    );

    let image = unique("image");
    rt.block_on(async {
        lambda_client()
            .await
            .create_function()
            .function_name(&image)
            .role(role_arn())
            .package_type(aws_sdk_lambda::types::PackageType::Image)
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .image_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/task:latest")
                    .build(),
            )
            .send()
            .await
            .unwrap()
    });
    // An image function runs with Docker; without a docker CLI, the last line says what to do.
    let r = run_lambda(
        &["run", &image, &url],
        &[("DOCKER_CLI", "/nonexistent/docker")],
        None,
    );
    r.assert_code(14);
    r.assert_last_line_contains("container image");
    r.assert_last_line_contains("run-lambda serve");
}

#[test]
fn cirrus_command_line_through_the_run_script() {
    // The images put images/run-lambda/run on PATH: ["run", "Ref::lambda_function", "Ref::url"].
    let rt = rt();
    let f = rt.block_on(python_function(&[], &[]));
    let url = rt.block_on(put(&f.bucket, "legacy/x.json", cirrus_payload()));
    let run = concat!(env!("CARGO_MANIFEST_DIR"), "/../../images/run-lambda/run");
    let bin_dir = std::path::Path::new(bin()).parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    local_aws::checked_output(
        std::process::Command::new(run)
            .args([&f.name, &url, "--code", &f.code_url])
            .env("PATH", path)
            .envs(LocalAws::shared().env())
            .env("STRATUS_PYTHON", python()),
    );
    assert!(rt.block_on(get(&f.bucket, "legacy/x_out.json")).is_some());
}

#[test]
fn qualified_function_names() {
    let rt = rt();
    let f = rt.block_on(python_function(&[], &[]));
    let version = rt.block_on(async {
        lambda_client()
            .await
            .publish_version()
            .function_name(&f.name)
            .send()
            .await
            .unwrap()
            .version()
            .unwrap()
            .to_string()
    });
    let url = rt.block_on(put(&f.bucket, "q.json", b"{}".to_vec()));
    let qualified = format!("{}:{version}", f.name);
    let r = run_function(&qualified, &url, &f.code_url, &[]);
    r.assert_code(0);
    let out: Value =
        serde_json::from_slice(&rt.block_on(get(&f.bucket, "q_out.json")).unwrap()).unwrap();
    assert_eq!(out["function_arn"], format!("{}:{version}", f.arn));
    assert_eq!(out["function_version"], version.as_str());
}

/// A function deployed on a Python this image does not have is refused as soon
/// as its configuration is read: the code (here a path that does not exist) is
/// never fetched, and the last line names the image built for its runtime.
#[test]
fn a_function_on_another_python_is_refused_before_its_code_is_fetched() {
    let python = python_runtime();
    let minor: u32 = python.rsplit('.').next().unwrap().parse().unwrap();
    let runtime = format!("python3.{}", minor + 1);
    let rt = rt();
    let name = unique("newer");
    rt.block_on(create_function(NewFunction {
        runtime: LambdaRuntime::from(runtime.as_str()),
        ..NewFunction::python(
            &name,
            &zip_of(&[("task.py", b"def handler(e, c): return e", 0o644)]),
        )
    }));
    let bucket = rt.block_on(LocalAws::shared().new_bucket("newer"));
    let url = rt.block_on(put(&bucket, "in.json", b"{}".to_vec()));
    let r = run_function(&name, &url, "/nonexistent/code.zip", &[]);
    r.assert_code(17);
    assert!(
        r.last_line().starts_with(&format!(
            "RuntimeMismatch: function {name} runs on {runtime}, but this image's Python is {};",
            &python[6..]
        )) && r.last_line().contains(&format!("(tagged …-{runtime})")),
        "{}",
        r.last_line()
    );
}
