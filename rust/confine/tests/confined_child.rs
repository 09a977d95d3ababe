//! A confined process, run as a child of this test (the same test binary,
//! re-executed into its ignored `child` test): what the report says is in
//! force holds, and the limits the parent sets from outside bite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::BufRead;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use confine::{confine, cpu_time, set_cpu_seconds, Limits, Report};

const CAP: u64 = 512 << 20;

/// Start this test binary's `child` test with `what` to do after confinement.
fn start_child(what: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CONFINE_CHILD", what)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn landlock_in_kernel() -> bool {
    // landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) gives the ABI version.
    #[allow(unsafe_code)]
    // SAFETY: a query with null attributes, as the man page documents.
    let abi = unsafe { libc::syscall(444, std::ptr::null::<u8>(), 0usize, 1u32) };
    abi > 0
}

/// Run the child with `layers` and check that it met every refusal.
fn check_refusals(layers: &str, expect_seccomp: bool, expect_landlock: bool) {
    let out = start_child(layers).wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("REPORT ").map(|(_, r)| r))
        .expect("the child printed its report");
    let report: Report = serde_json::from_str(line).unwrap();
    assert!(report.limits.on, "{report:?}");
    assert_eq!(report.seccomp.on, expect_seccomp, "{report:?}");
    assert_eq!(report.landlock.on, expect_landlock, "{report:?}");
    assert!(report.probes.all_refused(), "{:?}", report.probes);
    // What the child found after confinement (each line printed by the child).
    let mut expected = vec![
        "compute: 4950",
        "thread: joined",
        "file: refused",
        "passwd: refused",
        "socket: refused",
        "exec: refused",
        "kill-parent: refused",
        "big-allocation: refused",
    ];
    if expect_seccomp {
        // Only the filter covers UDP, limits and executable memory.
        expected.extend([
            "udp: refused",
            "raise-limit: refused",
            "exec-memory: refused",
        ]);
    }
    for expect in expected {
        assert!(
            stdout.lines().any(|l| l == expect),
            "no {expect:?} in:\n{stdout}"
        );
    }
}

#[test]
fn the_report_is_what_the_kernel_enforces() {
    check_refusals("both", true, landlock_in_kernel());
}

/// As on a platform without Landlock (Lambda's kernel may not have it).
#[test]
fn seccomp_alone_refuses_the_same() {
    check_refusals("seccomp", true, false);
}

/// As on a platform that refuses a filter of ours.
#[test]
fn landlock_alone_refuses_files_connections_programs_and_signals() {
    if !landlock_in_kernel() {
        eprintln!("this kernel has no Landlock: nothing to check");
        return;
    }
    check_refusals("landlock", false, true);
}

#[test]
fn cpu_time_set_from_outside_ends_a_spinning_child() {
    let mut spinner = start_child("spin");
    let pid = spinner.id();
    // Wait until it is confined and spinning, then give it one more second.
    let mut out = std::io::BufReader::new(spinner.stdout.take().unwrap());
    let mut line = String::new();
    while !line.trim_end().ends_with("SPIN") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child ended before spinning"
        );
    }
    let used = cpu_time(pid).unwrap();
    set_cpu_seconds(pid, used.as_secs() + 1).unwrap();
    let start = Instant::now();
    let status = spinner.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGXCPU), "{status:?}");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(cpu_time(pid).is_err(), "the process is gone");
}

/// The confined side; runs only when re-executed by the tests above.
#[test]
#[ignore]
fn child() {
    let Ok(what) = std::env::var("CONFINE_CHILD") else {
        return;
    };
    let exe = std::env::current_exe().unwrap();
    let layers = confine::Layers {
        seccomp: what != "landlock",
        landlock: what != "seccomp",
    };
    let report = confine(
        &Limits {
            address_space: CAP,
            open_files: 64,
        },
        layers,
    );
    let said = |what: &str, refused: bool| {
        println!("{what}: {}", if refused { "refused" } else { "ALLOWED" })
    };
    if what == "spin" {
        println!("SPIN");
        let mut x = 0u64;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
    println!("REPORT {}", serde_json::to_string(&report).unwrap());
    println!("compute: {}", (0..100).sum::<u32>());
    let t = std::thread::spawn(|| 1).join();
    println!(
        "thread: {}",
        if matches!(t, Ok(1)) {
            "joined"
        } else {
            "failed"
        }
    );
    said("file", std::fs::File::open(&exe).is_err());
    said("passwd", std::fs::read("/etc/passwd").is_err());
    said(
        "socket",
        std::net::TcpListener::bind("127.0.0.1:0").is_err(),
    );
    said("udp", std::net::UdpSocket::bind("127.0.0.1:0").is_err());
    said("exec", Command::new("/bin/true").status().is_err());
    #[allow(unsafe_code)]
    // SAFETY: plain system calls with integer arguments or pointers to locals.
    unsafe {
        said("kill-parent", libc::kill(libc::getppid(), 0) != 0);
        let raise = libc::rlimit {
            rlim_cur: libc::RLIM_INFINITY,
            rlim_max: libc::RLIM_INFINITY,
        };
        said("raise-limit", libc::setrlimit(libc::RLIMIT_AS, &raise) != 0);
        let big = libc::mmap(
            std::ptr::null_mut(),
            (CAP + (64 << 20)) as usize,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        said("big-allocation", big == libc::MAP_FAILED);
        let exec = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        said("exec-memory", exec == libc::MAP_FAILED);
    }
}
