//! `run-lambda exec` with real runtime clients against our Runtime API: a Rust
//! function on `lambda_runtime` (provided.al2023 `bootstrap`), a Python
//! handler under `awslambdaric` and Node.js handlers under `aws-lambda-ric`,
//! in every way they can end.

// Setup helpers in this test crate panic on failure, like the tests do.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::Value;

fn echo() -> String {
    echo_function().display().to_string()
}

fn python_dir() -> String {
    format!("{FIXTURES}/python")
}

/// `exec` of the Rust test function (echo-function) on `event`, given on
/// stdin, with `args`.
fn rust(args: &[&str], event: &[u8]) -> Run {
    let echo = echo();
    let mut all = vec!["exec", echo.as_str(), "--payload", "-"];
    all.extend_from_slice(args);
    run_lambda(&all, &[], Some(event))
}

fn json(s: &str) -> Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("{e}: {s}"))
}

// ---- Rust, lambda_runtime ----

#[test]
fn report_has_the_timings_as_json() {
    // What benchmarks read (`just bench-run-lambda`), instead of the logs.
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report.json");
    let r = run_lambda(
        &["exec", &echo(), "--report", report.to_str().unwrap()],
        &[],
        None,
    );
    r.assert_code(0);
    let timings = json(&std::fs::read_to_string(&report).unwrap());
    let to_event = timings["to_event_ms"].as_f64().unwrap();
    assert!(to_event > 0.0, "{timings}");
    // `run`'s phases are not `exec`'s.
    assert!(timings.get("get_function_ms").is_none(), "{timings}");
}

#[test]
fn rust_function_gets_the_event_context_and_lambda_environment() {
    let r = rust(
        &[
            "--function-name",
            "echo",
            "--memory",
            "1024",
            "--env",
            "MY_SETTING=on",
        ],
        br#"{"hello":"world"}"#,
    );
    r.assert_code(0);
    let out = json(&r.stdout);
    assert_eq!(out["echo"], serde_json::json!({"hello": "world"}));
    let ctx = &out["context"];
    assert!(ctx["request_id"].as_str().unwrap().len() >= 32);
    assert_eq!(
        ctx["invoked_function_arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:echo"
    );
    assert!(ctx["xray_trace_id"]
        .as_str()
        .unwrap()
        .starts_with("Root=1-"));
    // No --timeout: a deadline far away, as Batch's timeout governs.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(ctx["deadline"].as_u64().unwrap() > now_ms + 24 * 3600 * 1000);
    let env = &out["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "echo");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "1024");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/echo");
    assert_eq!(env["_HANDLER"], "bootstrap");
    assert_eq!(env["TZ"], ":UTC");
    assert_eq!(env["MY_SETTING"], "on");
    let task_root = env["LAMBDA_TASK_ROOT"].as_str().unwrap();
    assert_eq!(out["cwd"], task_root);
    assert!(env["LD_LIBRARY_PATH"].as_str().unwrap().contains(task_root));
    // The function's own output went to stderr, keeping stdout for the response.
    assert!(
        r.stderr.contains("echo-function: mode echo"),
        "{}",
        r.stderr
    );
    // The work directory is gone.
    assert!(!std::path::Path::new(task_root).exists());
}

#[test]
fn rust_function_error_keeps_its_type() {
    let r = rust(&[], br#"{"mode":"error"}"#);
    r.assert_code(3);
    assert_eq!(r.last_line(), "InvalidInput: the payload has no features");
}

#[test]
fn rust_panic_is_a_function_error() {
    let r = rust(&[], br#"{"mode":"panic"}"#);
    r.assert_code(3);
    r.assert_last_line_contains("the handler panicked");
}

#[test]
fn rust_crash_mid_invocation() {
    let r = rust(&[], br#"{"mode":"exit"}"#);
    r.assert_code(5);
    assert!(
        r.last_line().starts_with("Runtime.ExitError: RequestId: ")
            && r.last_line()
                .ends_with("Runtime exited with error: exit status 7"),
        "{}",
        r.last_line()
    );
}

#[test]
fn rust_init_error_is_reported() {
    let r = run_lambda(
        &["exec", &echo()],
        &[("ECHO_FUNCTION_INIT", "report")],
        None,
    );
    r.assert_code(4);
    assert_eq!(r.last_line(), "Runtime.InitError: missing configuration");
}

#[test]
fn rust_exit_during_init() {
    let r = run_lambda(&["exec", &echo()], &[("ECHO_FUNCTION_INIT", "exit")], None);
    r.assert_code(5);
    r.assert_last_line_contains("exit status 3");
}

#[test]
fn rust_timeout_kills_the_process_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("pid");
    let event = serde_json::json!({"mode": "sleep", "secs": 60, "pid_file": pid_file});
    let started = std::time::Instant::now();
    let r = rust(&["--timeout", "1.5"], event.to_string().as_bytes());
    r.assert_code(6);
    assert!(started.elapsed().as_secs() < 10);
    assert_eq!(
        r.last_line(),
        "Sandbox.Timedout: Task timed out after 1.50 seconds"
    );
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(gone_within(pid, 5), "the function's child {pid} survived");
}

#[test]
fn a_timeout_kills_detached_processes_too() {
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("pid");
    let event = serde_json::json!({"mode": "detach", "secs": 60, "pid_file": pid_file});
    let r = rust(&["--timeout", "1.5"], event.to_string().as_bytes());
    r.assert_code(6);
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(gone_within(pid, 5), "the detached process {pid} survived");
}

#[test]
fn what_a_handler_leaves_behind_does_not_hold_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("pid");
    let event = serde_json::json!({"mode": "detach", "secs": 0, "pid_file": pid_file});
    let started = std::time::Instant::now();
    let r = rust(&[], event.to_string().as_bytes());
    r.assert_code(0);
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(gone_within(pid, 5), "the detached process {pid} survived");
    // The leftover held the output pipes; killed, it holds nothing: no drain
    // wait (2 s), let alone one per pipe.
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(2), "took {took:?}");
}

#[test]
fn rust_unserializable_response_fails() {
    let r = rust(&[], br#"{"mode":"unserializable"}"#);
    // lambda_runtime gives up and exits when it cannot serialise the response.
    assert_ne!(r.code, 0);
    r.assert_last_line_starts_with("Runtime.");
}

#[test]
fn response_that_is_not_json_fails() {
    let r = rust(&[], br#"{"mode":"raw"}"#);
    r.assert_code(7);
    r.assert_last_line_starts_with("Runtime.InvalidResponse: ");
}

#[test]
fn rust_big_output_streams_through() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.json");
    let r = rust(
        &["--output", out.to_str().unwrap()],
        br#"{"mode":"big","lines":50000,"bytes":8000000}"#,
    );
    r.assert_code(0);
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("log line "))
            .count(),
        50000
    );
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["data"].as_str().unwrap().len(), 8_000_000);
}

#[test]
fn payload_must_be_json() {
    let r = rust(&[], b"{not json");
    r.assert_code(9);
    r.assert_last_line_starts_with("InvalidInput: ");
}

#[test]
fn unsupported_runtime_is_explained() {
    let r = run_lambda(
        &[
            "exec",
            &python_dir(),
            "--runtime",
            "java21",
            "--handler",
            "example.Handler::handleRequest",
        ],
        &[],
        None,
    );
    r.assert_code(14);
    r.assert_last_line_contains("java21");
}

// ---- Python, awslambdaric ----

fn py(args: &[&str], env: &[(&str, &str)], event: &str) -> Run {
    py_code(&python_dir(), args, env, event)
}

/// `exec` of the Python code at `code` (`task.handler` on Python 3.11).
fn py_code(code: &str, args: &[&str], env: &[(&str, &str)], event: &str) -> Run {
    let mut all = vec![
        "exec",
        code,
        "--runtime",
        "python3.11",
        "--handler",
        "task.handler",
        "--payload",
        "-",
    ];
    all.extend_from_slice(args);
    run_lambda(&all, env, Some(event.as_bytes()))
}

#[test]
fn python_handler_gets_the_event_and_context() {
    let r = py(
        &["--env", "MY_SETTING=py", "--function-name", "task"],
        &[],
        r#"{"a":[1,2]}"#,
    );
    r.assert_code(0);
    let out = json(&r.stdout);
    assert_eq!(out["echo"], serde_json::json!({"a": [1, 2]}));
    assert_eq!(out["function_name"], "task");
    assert_eq!(out["memory_limit_in_mb"], "128");
    assert!(out["remaining_ms"].as_i64().unwrap() > 3600 * 1000);
    assert_eq!(out["env"]["MY_SETTING"], "py");
    assert_eq!(out["env"]["_HANDLER"], "task.handler");
    assert_eq!(out["cwd"], out["env"]["LAMBDA_TASK_ROOT"]);
}

/// A Python function's error ends the output the way Python's own traceback
/// does: `module.Class: message`, builtins bare.
#[test]
fn python_exception_type_is_the_last_line_python_prints() {
    for (mode, want) in [
        ("error", "task.InvalidInput: the payload has no features"),
        ("builtin", "ValueError: no bands: 0"),
        ("nested", "task.Errors.Unreadable: band 1: truncated"),
    ] {
        let r = py(&[], &[], &format!(r#"{{"mode":"{mode}"}}"#));
        r.assert_code(3);
        assert_eq!(r.last_line(), want);
        let code = format!("import task; task.handler({{'mode': '{mode}'}}, None)");
        assert_eq!(r.last_line(), python_traceback_last_line(&code));
    }
}

#[test]
fn python_import_failure_is_an_init_error() {
    let r = py(&[], &[], "{}");
    r.assert_code(0);
    let r = py(&["--env", "TASK_INIT_FAIL=1"], &[], "{}");
    r.assert_code(4);
    r.assert_last_line_contains("cannot initialise: TASK_INIT_FAIL is set");
    let r = run_lambda(
        &[
            "exec",
            &python_dir(),
            "--runtime",
            "python3.11",
            "--handler",
            "missing.handler",
        ],
        &[],
        None,
    );
    r.assert_code(4);
    r.assert_last_line_starts_with("Runtime.ImportModuleError: ");
}

/// SnapStart's hooks, run by the real awslambdaric: `/runtime/restore/next`
/// is answered at once (there is no snapshot to take), so the before-snapshot
/// and after-restore hooks run back to back before the event; a failing hook
/// is the init failure Lambda names it. Without the SnapStart init type the
/// client calls neither, and Lambda's restore routes do not exist.
#[test]
fn python_snapstart_hooks_run_around_the_restore() {
    let code = format!("{FIXTURES}/snapstart");
    let snap = |init_type: &str, fail: &str| {
        run_lambda(
            &[
                "exec",
                &code,
                "--runtime",
                "python3.11",
                "--handler",
                "snap.handler",
                "--init-type",
                init_type,
                "--env",
                &format!("SNAP_FAIL={fail}"),
            ],
            &[],
            None,
        )
    };
    let r = snap("snap-start", "none");
    r.assert_code(0);
    assert_eq!(
        json(&r.stdout),
        serde_json::json!({"hooks": ["before_snapshot", "after_restore"], "init_type": "snap-start"})
    );
    let r = snap("on-demand", "none");
    r.assert_code(0);
    assert_eq!(
        json(&r.stdout),
        serde_json::json!({"hooks": [], "init_type": "on-demand"})
    );
    let r = snap("snap-start", "before");
    r.assert_code(4);
    assert_eq!(
        r.last_line(),
        "Runtime.BeforeSnapshotError: cannot close the pool before the snapshot"
    );
    let r = snap("snap-start", "after");
    r.assert_code(4);
    assert_eq!(
        r.last_line(),
        "Runtime.AfterRestoreError: cannot reconnect after the restore"
    );
}

#[test]
fn python_crash_mid_invocation() {
    let r = py(&[], &[], r#"{"mode":"crash"}"#);
    r.assert_code(5);
    r.assert_last_line_ends_with("exit status 9");
}

/// `--timeout SECS` on a handler sleeping beside a child process: exit 6,
/// Lambda's message, and the child killed with the runtime.
fn assert_timeout_kills_the_tree(run: impl Fn(&str, &str) -> Run, secs: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("pid");
    let event = serde_json::json!({"mode": "sleep", "secs": 60, "pid_file": pid_file});
    let r = run(secs, &event.to_string());
    r.assert_code(6);
    let limit: f64 = secs.parse().unwrap();
    assert_eq!(
        r.last_line(),
        format!("Sandbox.Timedout: Task timed out after {limit:.2} seconds")
    );
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(gone_within(pid, 5), "the handler's child {pid} survived");
}

#[test]
fn python_timeout_kills_the_process_tree() {
    assert_timeout_kills_the_tree(|secs, event| py(&["--timeout", secs], &[], event), "2");
}

#[test]
fn python_unserializable_response() {
    let r = py(&[], &[], r#"{"mode":"unserializable"}"#);
    r.assert_code(3);
    r.assert_last_line_starts_with("Runtime.MarshalError: ");
}

/// 30,000 log lines and a 2 MB response: every line reaches stderr (exec keeps
/// stdout for the response) and the response is whole.
fn assert_all_printed(run: impl Fn(&str) -> Run, is_log_line: impl Fn(&str) -> bool) {
    let r = run(r#"{"mode":"big","lines":30000,"bytes":2000000}"#);
    r.assert_code(0);
    assert_eq!(r.stderr.lines().filter(|l| is_log_line(l)).count(), 30000);
    assert_eq!(json(&r.stdout)["data"].as_str().unwrap().len(), 2_000_000);
}

#[test]
fn python_prints_a_lot() {
    // exec keeps stdout for the response: the handler's prints are on stderr.
    assert_all_printed(|event| py(&[], &[], event), |l| l.starts_with("log line "));
}

#[test]
fn python_layer_is_on_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = tmp.path().join("layer.zip");
    std::fs::write(&layer, layer_zip()).unwrap();
    let r = py(
        &["--layer", layer.to_str().unwrap()],
        &[],
        r#"{"mode":"layer"}"#,
    );
    r.assert_code(0);
    assert_eq!(json(&r.stdout)["layer"], "from the layer");
    let r = py(&[], &[], r#"{"mode":"layer"}"#);
    r.assert_code(3);
    r.assert_last_line_starts_with("ModuleNotFoundError: ");
}

#[test]
fn python_code_as_a_zip() {
    let tmp = tempfile::tempdir().unwrap();
    let code = tmp.path().join("code.zip");
    std::fs::write(&code, python_zip()).unwrap();
    let r = py_code(code.to_str().unwrap(), &[], &[], r#"{"x":1}"#);
    r.assert_code(0);
    assert_eq!(json(&r.stdout)["echo"]["x"], 1);
}

// ---- Node.js, aws-lambda-ric ----

fn node_dir() -> String {
    format!("{FIXTURES}/node")
}

/// `exec` of the Node.js test function with `handler` under `runtime`.
fn node_with(runtime: &str, handler: &str, args: &[&str], event: &str) -> Run {
    let client = node_client();
    assert!(
        client.join("package.json").is_file(),
        "no aws-lambda-ric at {}: run scripts/setup (or set STRATUS_NODE_RIC)",
        client.display()
    );
    let dir = node_dir();
    let mut all = vec![
        "exec",
        dir.as_str(),
        "--runtime",
        runtime,
        "--handler",
        handler,
        "--payload",
        "-",
    ];
    all.extend_from_slice(args);
    run_lambda(&all, &[], Some(event.as_bytes()))
}

/// The Lambda runtime of this machine's Node.js (`nodejs20.x`).
fn node_runtime() -> String {
    format!("nodejs{}.x", node_major())
}

fn node(args: &[&str], event: &str) -> Run {
    node_with(&node_runtime(), "index.handler", args, event)
}

#[test]
fn node_async_handler_gets_the_event_context_and_lambda_environment() {
    let r = node(
        &[
            "--env",
            "MY_SETTING=node",
            "--function-name",
            "task",
            "--memory",
            "256",
        ],
        r#"{"a":[1,2]}"#,
    );
    r.assert_code(0);
    let out = json(&r.stdout);
    assert_eq!(out["echo"], serde_json::json!({"a": [1, 2]}));
    assert_eq!(out["function_name"], "task");
    assert_eq!(out["function_version"], "$LATEST");
    assert_eq!(out["memory_limit_in_mb"], "256");
    assert!(out["request_id"].as_str().unwrap().len() >= 32);
    assert_eq!(
        out["function_arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:task"
    );
    assert!(out["remaining_ms"].as_i64().unwrap() > 3600 * 1000);
    let env = &out["env"];
    assert_eq!(env["MY_SETTING"], "node");
    assert_eq!(env["_HANDLER"], "index.handler");
    assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_nodejs20.x");
    assert_eq!(env["TZ"], ":UTC");
    let task_root = env["LAMBDA_TASK_ROOT"].as_str().unwrap();
    assert_eq!(out["cwd"], task_root);
    // Lambda's NODE_PATH, with the run's opt/ for /opt and the client's
    // directory for /var/runtime.
    let opt = std::path::Path::new(task_root).with_file_name("opt");
    let client = node_client().canonicalize().unwrap();
    let want = [
        opt.join("nodejs/node20/node_modules"),
        opt.join("nodejs/node_modules"),
        client.parent().unwrap().to_path_buf(),
        client.clone(),
        task_root.into(),
    ]
    .map(|p| p.display().to_string())
    .join(":");
    assert!(
        env["NODE_PATH"].as_str().unwrap().starts_with(&want),
        "{} does not start with {want}",
        env["NODE_PATH"]
    );
    // Node.js is started with Lambda's --expose-gc.
    assert_eq!(out["gc"], "function");
    // The handler's console output went to stderr, keeping stdout for the response.
    assert!(
        r.stderr.contains("index.handler: mode echo"),
        "{}",
        r.stderr
    );
}

#[test]
fn node_promise_and_callback_handlers() {
    for (handler, style) in [("index.promise", "promise"), ("index.callback", "callback")] {
        let r = node_with("nodejs20.x", handler, &[], r#"{"n":1}"#);
        r.assert_code(0);
        let out = json(&r.stdout);
        assert_eq!(out["style"], style);
        assert_eq!(out["echo"]["n"], 1);
    }
}

#[test]
fn node_es_module_handler() {
    let r = node_with(&node_runtime(), "esm.handler", &[], r#"{"n":2}"#);
    r.assert_code(0);
    let out = json(&r.stdout);
    assert_eq!(out["style"], "esm");
    assert_eq!(out["file"], "esm.mjs");
    assert_eq!(out["echo"]["n"], 2);
}

/// A function whose runtime is not this interpreter's is refused before it
/// runs (exit 17, naming the image to use), and runs with a warning when
/// allowed: Python's minor version and Node.js's major version count.
#[test]
fn another_runtime_version_is_refused_unless_allowed() {
    let python = python_runtime();
    let minor: u32 = python.rsplit('.').next().unwrap().parse().unwrap();
    let newer = format!("python3.{}", minor + 2);
    let node = format!("nodejs{}.x", node_major() + 2);
    let nodes = format!("nodejs{}", node_major() + 2);
    let dir = python_dir();
    let py = |extra: &[&str]| {
        let mut args = vec![
            "exec",
            &dir,
            "--runtime",
            &newer,
            "--handler",
            "task.handler",
        ];
        args.extend_from_slice(extra);
        run_lambda(&args, &[], Some(b"{}"))
    };
    let cases = [
        (
            py(&[]),
            newer.as_str(),
            newer.as_str(),
            format!("Python is {}", &python[6..]),
        ),
        (
            node_with(&node, "esm.handler", &[], "{}"),
            node.as_str(),
            nodes.as_str(),
            format!("Node.js is {}", node_major()),
        ),
    ];
    for (r, runtime, tag, found) in &cases {
        r.assert_code(17);
        let line = r.last_line();
        assert!(
            line.starts_with(&format!(
                "RuntimeMismatch: function local runs on {runtime}, but this image's {found};"
            )) && line.contains(&format!("(tagged …-{tag})"))
                && line.contains("--allow-runtime-mismatch"),
            "{line}"
        );
        // Refused before the runtime started: no response.
        assert!(r.stdout.trim().is_empty(), "{}", r.stdout);
    }
    // An image without the runtime's interpreter at all (a Python image asked for Node.js).
    let dir = node_dir();
    let r = run_lambda(
        &[
            "exec",
            &dir,
            "--runtime",
            &node_runtime(),
            "--handler",
            "index.handler",
        ],
        &[("STRATUS_NODE", "/nonexistent/node")],
        Some(b"{}"),
    );
    r.assert_code(17);
    r.assert_last_line_contains(
        "but this image has no Node.js (/nonexistent/node cannot be started)",
    );
    for r in [
        py(&["--allow-runtime-mismatch"]),
        node_with(&node, "esm.handler", &["--allow-runtime-mismatch"], "{}"),
    ] {
        r.assert_code(0);
        assert!(
            r.stderr
                .contains("--allow-runtime-mismatch: function local runs on"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn node_errors_are_named_as_the_client_reports_them() {
    for (mode, want) in [
        ("error", "InvalidInput: the payload has no features"),
        (
            "builtin",
            "TypeError: Cannot read properties of undefined (reading 'bands')",
        ),
    ] {
        let r = node(&[], &format!(r#"{{"mode":"{mode}"}}"#));
        r.assert_code(3);
        assert_eq!(r.last_line(), want);
    }
}

#[test]
fn node_init_failures_are_init_errors() {
    let r = node(&["--env", "NODE_INIT_FAIL=1"], "{}");
    r.assert_code(4);
    assert_eq!(
        r.last_line(),
        "Error: cannot initialise: NODE_INIT_FAIL is set"
    );
    let r = node_with("nodejs20.x", "missing.handler", &[], "{}");
    r.assert_code(4);
    r.assert_last_line_starts_with("Runtime.ImportModuleError: ");
}

#[test]
fn node_exit_without_a_response() {
    let r = node(&[], r#"{"mode":"exit"}"#);
    r.assert_code(5);
    assert!(
        r.last_line().starts_with("Runtime.ExitError: RequestId: ")
            && r.last_line().ends_with("exit status 9"),
        "{}",
        r.last_line()
    );
}

#[test]
fn node_timeout_kills_the_process_tree() {
    assert_timeout_kills_the_tree(|secs, event| node(&["--timeout", secs], event), "1.5");
}

/// What a handler logs right before it returns is all in the output, although
/// Node.js writes to a full pipe asynchronously and the runtime is killed as
/// soon as the response is in.
#[test]
fn node_prints_a_lot() {
    assert_all_printed(
        |event| node(&[], event),
        |l| l.contains("\tINFO\tlog line "),
    );
}

#[test]
fn node_layer_modules_are_found() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = tmp.path().join("layer.zip");
    std::fs::write(&layer, node_layer_zip()).unwrap();
    let r = node(&["--layer", layer.to_str().unwrap()], r#"{"mode":"layer"}"#);
    r.assert_code(0);
    let out = json(&r.stdout);
    assert_eq!(out["layer"], "from the layer");
    assert_eq!(out["versioned"], "from the layer, for Node.js 20");
}

/// The newest aws-lambda-ric (4.x, Node.js 22 or later) on Node.js 24, from
/// `node/current` (`npm ci` there; `STRATUS_NODE_CURRENT` names another
/// `node_modules`): it requires the invoked ARN, request id and deadline
/// headers and Lambda's `AWS_LAMBDA_*` variables, reports thrown errors by
/// their name, and refuses callback handlers from Node.js 24 on, as Lambda does.
#[test]
fn the_newest_node_client_on_the_newest_node() {
    let modules = std::env::var_os("STRATUS_NODE_CURRENT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../node/current/node_modules")
        });
    let (node, client) = (modules.join(".bin/node"), modules.join("aws-lambda-ric"));
    if !node.exists() || !client.join("package.json").is_file() {
        eprintln!(
            "SKIPPED: no Node.js and aws-lambda-ric in {} (run `npm ci` in node/current)",
            modules.display()
        );
        return;
    }
    let major = {
        let out = std::process::Command::new(&node)
            .arg("--version")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .trim_start_matches('v')
            .split('.')
            .next()
            .unwrap()
            .to_string()
    };
    let version: Value =
        serde_json::from_slice(&std::fs::read(client.join("package.json")).unwrap()).unwrap();
    assert!(
        version["version"].as_str().unwrap().starts_with("4."),
        "{version}"
    );
    let runtime = format!("nodejs{major}.x");
    let env = [
        ("STRATUS_NODE", node.to_str().unwrap()),
        ("STRATUS_NODE_RIC", client.to_str().unwrap()),
    ];
    let dir = node_dir();
    let exec = |handler: &str, event: &str| {
        run_lambda(
            &[
                "exec",
                &dir,
                "--runtime",
                &runtime,
                "--handler",
                handler,
                "--payload",
                "-",
                "--function-name",
                "task",
            ],
            &env,
            Some(event.as_bytes()),
        )
    };
    let r = exec("index.handler", r#"{"a":1}"#);
    r.assert_code(0);
    let out = json(&r.stdout);
    assert_eq!(out["echo"], serde_json::json!({"a": 1}));
    assert_eq!(
        out["function_arn"],
        "arn:aws:lambda:us-east-1:000000000000:function:task"
    );
    assert_eq!(
        out["env"]["AWS_EXECUTION_ENV"],
        format!("AWS_Lambda_{runtime}")
    );
    assert!(out["remaining_ms"].as_i64().unwrap() > 3600 * 1000);
    let r = exec("index.handler", r#"{"mode":"error"}"#);
    r.assert_code(3);
    assert_eq!(r.last_line(), "InvalidInput: the payload has no features");
    let r = exec("index.handler", r#"{"mode":"exit"}"#);
    r.assert_code(5);
    let r = exec("esm.handler", r#"{"b":2}"#);
    r.assert_code(0);
    if major.parse::<u32>().unwrap() >= 24 {
        let r = exec("index.callback", "{}");
        r.assert_code(4);
        r.assert_last_line_contains("callback");
    }
}

#[test]
fn node_client_missing_is_explained() {
    let r = run_lambda(
        &[
            "exec",
            &node_dir(),
            "--runtime",
            "nodejs20.x",
            "--handler",
            "index.handler",
        ],
        &[("STRATUS_NODE_RIC", "/nonexistent/aws-lambda-ric")],
        None,
    );
    r.assert_code(4);
    assert!(
        r.last_line().starts_with("Runtime.InvalidEntrypoint: ")
            && r.last_line().contains("STRATUS_NODE_RIC"),
        "{}",
        r.last_line()
    );
}

// ---- payload and output on S3 ----

#[test]
fn exec_reads_and_writes_s3() {
    let rt = rt();
    let bucket = rt.block_on(local_aws::LocalAws::shared().new_bucket("exec"));
    let url = rt.block_on(put(&bucket, "in/event.json.gz", gzip(br#"{"from":"s3"}"#)));
    let out_url = format!("s3://{bucket}/out/response.json");
    let r = run_lambda(
        &["exec", &echo(), "--payload", &url, "--output", &out_url],
        &[],
        None,
    );
    r.assert_code(0);
    let body = rt.block_on(get(&bucket, "out/response.json")).unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["echo"]["from"], "s3");
}

#[test]
fn sigterm_stops_the_function_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("pid");
    let event = tmp.path().join("event.json");
    let body = serde_json::json!({"mode": "sleep", "secs": 60, "pid_file": pid_file});
    std::fs::write(&event, body.to_string()).unwrap();
    // What `docker stop` (a Batch job cancelled or timed out) sends.
    let child = std::process::Command::new(bin())
        .args(["exec", &echo(), "--payload", event.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut waited = 0;
    while !pid_file.exists() && waited < 200 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    let grandchild: u32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("Runner.Terminated: "), "{last}");
    assert!(
        gone_within(grandchild, 5),
        "the function's child {grandchild} survived"
    );
}
