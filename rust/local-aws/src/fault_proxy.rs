//! An HTTP proxy on 127.0.0.1 in front of moto that records every request
//! exactly as the client sent it and injects faults by plan: connection
//! resets, 500/503 answers, stalls and bodies cut short, chosen by a seeded
//! generator so a run can be repeated.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A fault the proxy can inject into one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection without answering.
    Reset,
    /// Answer with this status and an S3 error body (500 InternalError, 503 SlowDown).
    Status(u16),
    /// Answer with this status and S3 error code (403 `AccessDenied`, a KMS refusal …).
    Error(u16, &'static str),
    /// Answer nothing for the plan's stall time, then close.
    Stall,
    /// Forward, then send the answer's headers and only half its body.
    Truncate,
}

/// Which requests get which faults.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    /// Chance that a request gets a fault (0 to 1).
    pub rate: f64,
    /// Faults to choose from, evenly.
    pub faults: Vec<Fault>,
    /// Only requests with these methods get faults (all when empty).
    pub methods: Vec<&'static str>,
    /// Only requests whose target (path and query, as sent) contains one of
    /// these get faults (all when empty).
    pub targets: Vec<String>,
    /// How long a stall lasts.
    pub stall: Duration,
    /// Seed of the generator.
    pub seed: u64,
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> FaultPlan {
        FaultPlan {
            rate: 0.0,
            faults: vec![],
            methods: vec![],
            targets: vec![],
            stall: Duration::from_secs(1),
            seed: 1,
        }
    }

    /// Every kind of fault at `rate`, on every request.
    pub fn all(rate: f64, seed: u64) -> FaultPlan {
        FaultPlan {
            rate,
            faults: vec![
                Fault::Reset,
                Fault::Status(500),
                Fault::Status(503),
                Fault::Stall,
                Fault::Truncate,
            ],
            seed,
            ..FaultPlan::none()
        }
    }
}

/// One request as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `GET`, `PUT`, …
    pub method: String,
    /// The request target as sent (path and query, still percent-encoded).
    pub target: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The `If-Match` header, if any, exactly as sent.
    pub if_match: Option<String>,
    /// The fault injected, if any.
    pub fault: Option<Fault>,
}

impl Seen {
    /// The target's path, percent-decoded (`/bucket/key`).
    pub fn decoded_path(&self) -> String {
        let path = self.target.split('?').next().unwrap_or_default();
        let bytes = path.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
                (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                    out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                    i += 3;
                }
                (b, _, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

struct State {
    plan: FaultPlan,
    rng: u64,
    seen: Vec<Seen>,
}

impl State {
    fn next(&mut self) -> f64 {
        // xorshift64*: enough for choosing faults, repeatable by seed.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn choose(&mut self, method: &str, target: &str) -> Option<Fault> {
        let plan = &self.plan;
        if plan.faults.is_empty()
            || !(plan.methods.is_empty() || plan.methods.contains(&method))
            || !(plan.targets.is_empty()
                || plan.targets.iter().any(|t| target.contains(t.as_str())))
        {
            return None;
        }
        let n = plan.faults.len();
        if self.next() >= self.plan.rate {
            return None;
        }
        let i = ((self.next() * n as f64) as usize).min(n - 1);
        Some(self.plan.faults[i])
    }
}

/// The proxy; it runs until the process ends.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Start forwarding to `127.0.0.1:upstream`, with no faults yet.
    pub fn start(upstream: u16) -> FaultProxy {
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind proxy: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("proxy addr: {e}"));
        let state = Arc::new(Mutex::new(State {
            plan: FaultPlan::none(),
            rng: 1,
            seen: vec![],
        }));
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(conn, upstream, &s));
            }
        });
        FaultProxy { addr, state }
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// Use `plan` from now on (its generator restarts from its seed).
    pub fn set_plan(&self, plan: FaultPlan) {
        if let Ok(mut s) = self.state.lock() {
            s.rng = plan.seed.max(1);
            s.plan = plan;
        }
    }

    /// Every request seen since the last call, in arrival order.
    pub fn take_seen(&self) -> Vec<Seen> {
        self.state
            .lock()
            .map(|mut s| std::mem::take(&mut s.seen))
            .unwrap_or_default()
    }
}

/// One request per connection: read it, fault it or forward it, close.
fn serve(mut client: TcpStream, upstream: u16, state: &Mutex<State>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let Some((head, body)) = read_request(&mut client) else {
        return;
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut parts = lines.next().unwrap_or_default().split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let header = |name: &str| {
        text.split("\r\n").skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let range = header("range");
    let if_match = header("if-match");
    let (fault, stall) = match state.lock() {
        Ok(mut s) => {
            let fault = s.choose(&method, &target);
            s.seen.push(Seen {
                method: method.clone(),
                target,
                range,
                if_match,
                fault,
            });
            (fault, s.plan.stall)
        }
        Err(_) => return,
    };
    match fault {
        Some(Fault::Reset) => {}
        Some(fault @ (Fault::Status(_) | Fault::Error(..))) => {
            let (code, reason, s3_code) = match fault {
                Fault::Status(503) => (503, "Slow Down", "SlowDown"),
                Fault::Error(code, s3_code) => (code, "Refused", s3_code),
                _ => (500, "Internal Server Error", "InternalError"),
            };
            let body = format!("<Error><Code>{s3_code}</Code><Message>injected</Message></Error>");
            let _ = write!(
                client,
                "HTTP/1.1 {code} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        Some(Fault::Stall) => std::thread::sleep(stall),
        None | Some(Fault::Truncate) => {
            if let Some(answer) = forward(&head, &body, upstream) {
                let out = match fault {
                    Some(Fault::Truncate) => truncated(&answer),
                    _ => answer,
                };
                let _ = client.write_all(&out);
            }
        }
    }
    let _ = client.shutdown(Shutdown::Both);
}

/// The request's head (up to the blank line) and body (by Content-Length or chunked).
fn read_request(client: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = client.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = buf[..head_end].to_vec();
    let mut body = buf[head_end..].to_vec();
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    if text.contains("expect: 100-continue") {
        client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    let length = text.split("\r\n").find_map(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    let chunked = text.contains("transfer-encoding: chunked");
    let complete = |b: &[u8]| match (length, chunked) {
        (Some(n), _) => b.len() >= n,
        (None, true) => b.ends_with(b"0\r\n\r\n") || b.windows(5).any(|w| w == b"\r\n0\r\n"),
        (None, false) => true,
    };
    while !complete(&body) {
        let n = client.read(&mut chunk).ok().filter(|&n| n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    Some((head, body))
}

/// Send the request upstream (asking it to close after answering) and read the whole answer.
fn forward(head: &[u8], body: &[u8], upstream: u16) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") || lower.starts_with("expect:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut server = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    server.write_all(out.as_bytes()).ok()?;
    server.write_all(body).ok()?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).ok()?;
    Some(answer)
}

/// The answer with its body cut in half (headers, Content-Length included,
/// unchanged), or its headers cut when it has no body.
fn truncated(answer: &[u8]) -> Vec<u8> {
    match answer.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) if answer.len() > p + 4 => {
            let body = answer.len() - (p + 4);
            answer[..p + 4 + body / 2].to_vec()
        }
        _ => answer[..answer.len() / 2].to_vec(),
    }
}
