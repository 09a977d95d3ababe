//! Test harness for Stratus: starts moto (the local AWS emulator) on a free
//! loopback port and hands out SDK configs and environment variables that
//! point at it, a byte-counting proxy to prove how much a client fetched, a
//! fault-injecting proxy ([`FaultProxy`]) and [`Canaries`] that nothing may touch,
//! and [`checked_output`], a command's output once it has succeeded.
//!
//! moto is found as `$MOTO_SERVER`, else `<workspace>/.venv/bin/moto_server`,
//! else `moto_server` on `PATH` (`just setup` creates the venv).
//! The server exits by itself when the test process ends: it watches its
//! stdin, which is a pipe held by this process.

mod canary;
mod fault_proxy;

pub use canary::Canaries;
pub use fault_proxy::{Fault, FaultPlan, FaultProxy, Seen};

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Account id moto reports.
pub const ACCOUNT_ID: &str = "123456789012";
/// Region every test uses.
pub const REGION: &str = "us-east-1";

/// A running moto server on 127.0.0.1.
pub struct LocalAws {
    port: u16,
    _child: Mutex<Child>,
}

fn workspace_root() -> PathBuf {
    // rust/local-aws → workspace root
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python interpreter of the project venv (or `python3`).
pub fn python() -> PathBuf {
    let venv = workspace_root().join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// The Python of the environment `just setup` makes with cirrus-geo `version`
/// (`.venvs/cirrus-geo-<version>`); panics, saying so, when it is missing.
pub fn cirrus_geo_python(version: &str) -> PathBuf {
    let python = workspace_root().join(format!(".venvs/cirrus-geo-{version}/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: `just setup` makes it (it needs Python 3.12)",
        python.display()
    );
    python
}

/// What `command` printed with `input` on its stdin, once it has run to its end.
pub fn output_with_input(command: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    // A command that exits without reading it all is its own answer.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot read the output of {command:?}: {e}"))
}

/// What `command` printed, once it has run to its end; panics with its
/// stderr when it fails (a test's tool, a helper script, the binary under test).
pub fn checked_output(command: &mut Command) -> Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

impl LocalAws {
    /// One server shared by every test of this process (tests use distinct buckets).
    pub fn shared() -> &'static LocalAws {
        static SHARED: OnceLock<LocalAws> = OnceLock::new();
        SHARED.get_or_init(LocalAws::start)
    }

    /// Start a new server; panics with a clear message when moto is missing.
    pub fn start() -> LocalAws {
        let port = free_port();
        let moto = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .or_else(|| {
                let p = workspace_root().join(".venv/bin/moto_server");
                p.exists().then_some(p)
            })
            .unwrap_or_else(|| PathBuf::from("moto_server"));
        // A tiny wrapper: exit when stdin closes (our process ended), then run moto.
        let script = format!(
            "import os,sys,threading\n\
             threading.Thread(target=lambda:(sys.stdin.read(),os._exit(0)),daemon=True).start()\n\
             sys.argv=[{moto:?},'-H','127.0.0.1','-p','{port}']\n\
             from moto.server import main\n\
             main()\n",
            moto = moto.display().to_string()
        );
        let python = if moto
            .parent()
            .map(|p| p.join("python").exists())
            .unwrap_or(false)
        {
            moto.parent()
                .map(|p| p.join("python"))
                .unwrap_or_else(python)
        } else {
            python()
        };
        let child = Command::new(&python)
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start moto with {}: {e} (run `just setup`)",
                    python.display()
                )
            });
        let aws = LocalAws {
            port,
            _child: Mutex::new(child),
        };
        aws.wait_ready();
        aws.configure_moto();
        aws
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(body) = http(self.port, "GET", "/moto-api/", "") {
                if !body.is_empty() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto did not answer on 127.0.0.1:{} within 30 s", self.port);
    }

    /// No Docker here: make moto's Lambda Invoke and Batch jobs run without it.
    fn configure_moto(&self) {
        let body = r#"{"lambda":{"use_docker":false},"batch":{"use_docker":false}}"#;
        if let Err(e) = http(self.port, "POST", "/moto-api/config", body) {
            panic!("cannot configure moto: {e}");
        }
    }

    /// TCP port of the server.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment for a child process (our binaries, GDAL, Python clients).
    pub fn env(&self) -> Vec<(String, String)> {
        let endpoint = self.endpoint();
        [
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", REGION),
            ("AWS_DEFAULT_REGION", REGION),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            // GDAL's /vsis3/ does not read AWS_ENDPOINT_URL.
            ("AWS_S3_ENDPOINT", &endpoint["http://".len()..]),
            ("AWS_HTTPS", "NO"),
            ("AWS_VIRTUAL_HOSTING", "FALSE"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Put [`LocalAws::env`] into this process' environment. Call once, before
    /// any thread reads the environment (GDAL reads it at open time).
    pub fn export_env(&self) {
        static DONE: OnceLock<()> = OnceLock::new();
        DONE.get_or_init(|| {
            for (k, v) in self.env() {
                // SAFETY-free: std::env::set_var is safe on edition 2021.
                std::env::set_var(k, v);
            }
        });
    }

    /// SDK config pointing at this server with static test credentials.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        test_loader(&self.endpoint()).load().await
    }

    /// An S3 client (path-style) for this server.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        s3_client(&self.endpoint(), None).await
    }

    /// Upload the file at `path` to `bucket`/`key` (streamed: test rasters can be large).
    pub async fn put_file(&self, bucket: &str, key: &str, path: &std::path::Path) {
        let body = aws_sdk_s3::primitives::ByteStream::from_path(path)
            .await
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        self.s3()
            .await
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("put s3://{bucket}/{key}: {e:?}"));
    }

    /// Create a bucket with a unique name starting with `prefix`.
    pub async fn new_bucket(&self, prefix: &str) -> String {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.s3()
            .await
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create bucket {name}: {e:?}"));
        name
    }
}

/// A path-style S3 client with test credentials for any endpoint (moto, a
/// proxy in front of it, a deliberately broken server), with an optional
/// retry policy.
pub async fn s3_client(
    endpoint: &str,
    retry: Option<aws_config::retry::RetryConfig>,
) -> aws_sdk_s3::Client {
    s3_client_with(endpoint, retry, None).await
}

/// [`s3_client`] with timeouts too.
pub async fn s3_client_with(
    endpoint: &str,
    retry: Option<aws_config::retry::RetryConfig>,
    timeouts: Option<aws_config::timeout::TimeoutConfig>,
) -> aws_sdk_s3::Client {
    let mut loader = test_loader(endpoint);
    if let Some(retry) = retry {
        loader = loader.retry_config(retry);
    }
    if let Some(timeouts) = timeouts {
        loader = loader.timeout_config(timeouts);
    }
    let sdk = loader.load().await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    )
}

/// SDK settings for `endpoint` with static test credentials in the test region.
fn test_loader(endpoint: &str) -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "local-aws",
        ))
}

/// Minimal blocking HTTP/1.0 request to 127.0.0.1 (harness use only).
fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// What a [`CountingProxy`] saw.
#[derive(Debug, Default, Clone)]
pub struct Traffic {
    /// Request lines (`GET /bucket/key HTTP/1.1`) in arrival order, with any
    /// `Range` and `x-amz-checksum-mode` header.
    pub requests: Vec<String>,
    /// Bytes sent from the server to clients (headers and bodies).
    pub bytes_down: u64,
}

/// A TCP proxy on 127.0.0.1 that forwards to another loopback port and records
/// every HTTP request line and the bytes the upstream sent back.
pub struct CountingProxy {
    addr: SocketAddr,
    traffic: Arc<Mutex<Traffic>>,
}

impl CountingProxy {
    /// Start forwarding to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> CountingProxy {
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind proxy: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("proxy addr: {e}"));
        let traffic = Arc::new(Mutex::new(Traffic::default()));
        let t = traffic.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let t = t.clone();
                std::thread::spawn(move || proxy_conn(conn, upstream, t));
            }
        });
        CountingProxy { addr, traffic }
    }

    /// `host:port` of the proxy.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// A snapshot of the traffic so far.
    pub fn traffic(&self) -> Traffic {
        self.traffic.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Forget what was recorded.
    pub fn reset(&self) {
        if let Ok(mut t) = self.traffic.lock() {
            *t = Traffic::default();
        }
    }
}

fn proxy_conn(client: TcpStream, upstream: u16, traffic: Arc<Mutex<Traffic>>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let (Ok(client_r), Ok(mut server_w)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let t = traffic.clone();
    // client → server: forward raw bytes (bodies need not end in a newline),
    // and scan complete lines on the side for request lines and Range headers.
    let up = std::thread::spawn(move || {
        let mut client_r = client_r;
        let mut buf = [0u8; 16384];
        let mut pending: Vec<u8> = Vec::new();
        let mut current: Option<usize> = None;
        loop {
            let n = match client_r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if server_w.write_all(&buf[..n]).is_err() {
                break;
            }
            pending.extend_from_slice(&buf[..n]);
            while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=pos).collect();
                let text = String::from_utf8_lossy(&line);
                let trimmed = text.trim_end();
                if let Ok(mut t) = t.lock() {
                    if ["GET ", "HEAD ", "PUT ", "POST ", "DELETE "]
                        .iter()
                        .any(|m| trimmed.starts_with(m))
                    {
                        t.requests.push(trimmed.to_string());
                        current = Some(t.requests.len() - 1);
                    } else if ["range:", "x-amz-checksum-mode:"]
                        .iter()
                        .any(|h| trimmed.to_ascii_lowercase().starts_with(h))
                    {
                        if let Some(i) = current {
                            let header = trimmed.to_string();
                            t.requests[i].push_str(&format!(" [{header}]"));
                        }
                    }
                }
            }
            // Bodies without newlines: keep only a bounded tail.
            if pending.len() > 65536 {
                pending.clear();
            }
        }
        let _ = server_w.shutdown(std::net::Shutdown::Write);
    });
    // server → client: count bytes.
    let mut server_r = server;
    let mut client_w = client;
    let mut buf = [0u8; 16384];
    loop {
        match server_r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Ok(mut t) = traffic.lock() {
                    t.bytes_down += n as u64;
                }
                if client_w.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = client_w.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}
