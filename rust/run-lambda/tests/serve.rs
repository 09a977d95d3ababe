//! `run-lambda serve` against moto: a container-image function registered in
//! moto's Lambda, its payload and response on moto's S3, and its runtime
//! started separately, as the function's container of a multi-container job
//! is: the `lambda_runtime` test function with `AWS_LAMBDA_RUNTIME_API`
//! pointing at the address `serve` listens on. ECS's task metadata endpoint,
//! which tells `serve` that the function's container stopped, is stood in for
//! by a small server that reports that process the way ECS reports a container.

// Setup helpers in this test crate panic on failure, like the tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use local_aws::LocalAws;
use serde_json::Value;

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/task@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// An image function in moto (with an ImageConfig, which moto stores) and a bucket.
fn image_function() -> (String, String) {
    let rt = rt();
    let name = unique("image");
    rt.block_on(async {
        lambda_client()
            .await
            .create_function()
            .function_name(&name)
            .role(role_arn())
            .package_type(aws_sdk_lambda::types::PackageType::Image)
            .memory_size(2048)
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .image_uri(IMAGE)
                    .build(),
            )
            .image_config(
                aws_sdk_lambda::types::ImageConfig::builder()
                    .command("app.handler")
                    .build(),
            )
            .send()
            .await
            .unwrap()
    });
    let bucket = rt.block_on(LocalAws::shared().new_bucket("serve"));
    (name, bucket)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The function's "container": echo-function asking the Runtime API at `port`.
fn runtime(port: u16) -> Child {
    Command::new(echo_function())
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "image")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// A stand-in for ECS's task metadata endpoint (v4): `GET /task` lists the
/// container `function` (running `image`), `STOPPED` with its exit code once
/// the runtime process has ended.
struct Metadata {
    url: String,
    exit: Arc<Mutex<Option<i32>>>,
}

impl Metadata {
    fn start(image: &str) -> Metadata {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v4/task-id", listener.local_addr().unwrap());
        let exit = Arc::new(Mutex::new(None));
        let (state, image) = (exit.clone(), image.to_string());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let container = match *state.lock().unwrap() {
                    Some(code) => {
                        serde_json::json!({"Name": "function", "Image": image, "KnownStatus": "STOPPED", "ExitCode": code})
                    }
                    None => {
                        serde_json::json!({"Name": "function", "Image": image, "KnownStatus": "RUNNING"})
                    }
                };
                let body = serde_json::json!({"Containers": [
                    {"Name": "run-lambda", "Image": "run-lambda", "KnownStatus": "RUNNING"}, container]})
                .to_string();
                let _ = write!(
                    &stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Metadata { url, exit }
    }

    /// Report `child`'s exit as the container's, once it has exited.
    fn watch(&self, mut child: Child) {
        let exit = self.exit.clone();
        std::thread::spawn(move || {
            let status = child.wait().unwrap();
            *exit.lock().unwrap() = Some(status.code().unwrap_or(137));
        });
    }
}

/// `run-lambda serve FUNCTION URL --listen 127.0.0.1:PORT EXTRA…`, its runtime
/// started a moment later (as ECS starts the function's container after ours).
fn serve(function: &str, url: &str, extra: &[&str], metadata: Option<&Metadata>) -> Run {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["serve", function, url, "--listen", &listen];
    args.extend_from_slice(extra);
    let env: Vec<(&str, &str)> = metadata
        .map(|m| vec![("ECS_CONTAINER_METADATA_URI_V4", m.url.as_str())])
        .unwrap_or_default();
    let handle = std::thread::spawn({
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            run_lambda(&args, &env, None)
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let child = runtime(port);
    match metadata {
        Some(m) => m.watch(child),
        None => {
            std::thread::spawn(move || {
                let mut child = child;
                // The job ends with serve; ECS would stop the container then.
                std::thread::sleep(Duration::from_secs(20));
                let _ = child.kill();
                let _ = child.wait();
            });
        }
    }
    handle.join().unwrap()
}

#[test]
fn serve_hands_the_payload_to_a_runtime_in_another_container() {
    let (name, bucket) = image_function();
    let rt = rt();
    let url = rt.block_on(put(&bucket, "batch/in.json", br#"{"x":1}"#.to_vec()));
    let metadata = Metadata::start(IMAGE);
    let r = serve(&name, &url, &[], Some(&metadata));
    r.assert_code(0);
    let out: Value =
        serde_json::from_slice(&rt.block_on(get(&bucket, "batch/in_out.json")).unwrap()).unwrap();
    assert_eq!(out["echo"], serde_json::json!({"x": 1}));
    assert!(out["context"]["invoked_function_arn"]
        .as_str()
        .unwrap()
        .ends_with(&format!(":function:{name}")));
    assert!(r.stderr.contains(IMAGE), "{}", r.stderr);
    // The job runs the function's own image: no warning.
    assert!(!r.stderr.contains("another image"), "{}", r.stderr);
}

#[test]
fn a_function_error_is_the_last_line() {
    let (name, bucket) = image_function();
    let url = rt().block_on(put(&bucket, "in.json", br#"{"mode":"error"}"#.to_vec()));
    let r = serve(&name, &url, &[], Some(&Metadata::start(IMAGE)));
    r.assert_code(3);
    assert_eq!(r.last_line(), "InvalidInput: the payload has no features");
    assert!(rt().block_on(get(&bucket, "in_out.json")).is_none());
}

#[test]
fn a_runtime_that_exits_without_answering_ends_the_job() {
    let (name, bucket) = image_function();
    let url = rt().block_on(put(&bucket, "in.json", br#"{"mode":"exit"}"#.to_vec()));
    // ECS reports the stopped container; its exit code is the runtime's.
    let r = serve(&name, &url, &[], Some(&Metadata::start("someone/else:1")));
    r.assert_code(5);
    r.assert_last_line_starts_with("Runtime.ExitError: RequestId: ");
    r.assert_last_line_ends_with("Error: Runtime exited with error: exit status 7");
    // Another image than the function's is said.
    assert!(
        r.stderr
            .contains("the job runs another image than the function's"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_timeout_ends_the_job() {
    let (name, bucket) = image_function();
    let url = rt().block_on(put(
        &bucket,
        "in.json",
        br#"{"mode":"sleep","secs":60}"#.to_vec(),
    ));
    // Without ECS's metadata endpoint, only the timeout notices anything.
    let r = serve(&name, &url, &["--timeout", "2"], None);
    r.assert_code(6);
    assert_eq!(
        r.last_line(),
        "Sandbox.Timedout: Task timed out after 2.00 seconds"
    );
    assert!(
        r.stderr
            .contains("ECS_CONTAINER_METADATA_URI_V4 is not set"),
        "{}",
        r.stderr
    );
}

#[test]
fn serve_is_for_image_functions() {
    let rt = rt();
    let name = unique("zip");
    let zip = python_zip();
    rt.block_on(create_function(NewFunction::python(&name, &zip)));
    let bucket = rt.block_on(LocalAws::shared().new_bucket("serve-zip"));
    let url = rt.block_on(put(&bucket, "in.json", b"{}".to_vec()));
    let r = run_lambda(
        &[
            "serve",
            &name,
            &url,
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
        ],
        &[],
        None,
    );
    r.assert_code(2);
    r.assert_last_line_contains("`serve` is for image functions");
}
