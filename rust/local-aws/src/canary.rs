//! Canaries: local files and a loopback URL that nothing may touch. A test
//! points hostile inputs at them and afterwards asks what was touched:
//! file opens and reads are seen by inotify (whichever process made them),
//! HTTP requests by a listener that records every connection.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

/// A directory of canary files and a canary HTTP server on 127.0.0.1.
pub struct Canaries {
    dir: tempfile::TempDir,
    inotify: Inotify,
    http: SocketAddr,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Canaries {
    /// Canary files `files` (name, bytes) in a new directory, watched from now on.
    pub fn new(files: &[(&str, &[u8])]) -> Canaries {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("canary dir: {e}"));
        for (name, bytes) in files {
            std::fs::write(dir.path().join(name), bytes)
                .unwrap_or_else(|e| panic!("canary {name}: {e}"));
        }
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .unwrap_or_else(|e| panic!("inotify: {e}"));
        inotify
            .add_watch(
                dir.path(),
                AddWatchFlags::IN_OPEN | AddWatchFlags::IN_ACCESS,
            )
            .unwrap_or_else(|e| panic!("inotify watch: {e}"));
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("canary listener: {e}"));
        let http = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("canary addr: {e}"));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let seen = hits.clone();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                // Record the request line, answer nothing: a canary is not a server.
                let mut buf = [0u8; 512];
                let n = conn.read(&mut buf).unwrap_or(0);
                let line = String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .next()
                    .unwrap_or("(connection)")
                    .to_string();
                if let Ok(mut h) = seen.lock() {
                    h.push(line);
                }
            }
        });
        Canaries {
            dir,
            inotify,
            http,
            hits,
        }
    }

    /// The canary directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The path of a canary file.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `http://127.0.0.1:PORT/<path>` on the canary server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.http, path.trim_start_matches('/'))
    }

    /// Everything touched since the last call: `open <file>`, `read <file>`,
    /// `http <request line>`.
    pub fn touched(&self) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            for e in events {
                let what = if e.mask.contains(AddWatchFlags::IN_OPEN) {
                    "open"
                } else {
                    "read"
                };
                let name = e
                    .name
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push(format!("{what} {name}"));
            }
        }
        if let Ok(mut h) = self.hits.lock() {
            out.extend(h.drain(..).map(|l| format!("http {l}")));
        }
        out
    }
}
