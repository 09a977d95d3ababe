//! A seccomp filter for a process that parses bytes it is handed and does
//! nothing else: it may compute, allocate, use the descriptors it already
//! has and start threads; opening files, making sockets, running programs,
//! forking, signalling other processes, changing its limits and mapping
//! executable memory all fail with an error.
//!
//! The filter is a classic BPF program written here: a check of the
//! architecture, then one block per system call (a few look at an argument),
//! then the default. Installing it needs only `PR_SET_NO_NEW_PRIVS`.

#![allow(unsafe_code)] // prctl and seccomp take raw pointers

use std::io;

/// What the filter answers a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Allow,
    Errno(i32),
}

impl Action {
    fn ret(self) -> u32 {
        const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
        const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
        match self {
            Action::Allow => SECCOMP_RET_ALLOW,
            Action::Errno(e) => SECCOMP_RET_ERRNO | (e as u32 & 0xffff),
        }
    }
}

/// How one system call is judged.
#[derive(Debug, Clone)]
enum Rule {
    /// Always the same answer.
    Always(Action),
    /// `hit` when argument `arg` has a bit of `mask` set (low 32 bits), else `miss`.
    AnyBit {
        arg: u32,
        mask: u32,
        hit: Action,
        miss: Action,
    },
    /// `hit` when argument `arg` equals `value` (all 64 bits), else `miss`.
    Equals {
        arg: u32,
        value: u64,
        hit: Action,
        miss: Action,
    },
    /// `hit` when argument `arg` is one of `values`, else `miss`.
    OneOf {
        arg: u32,
        values: Vec<u32>,
        hit: Action,
        miss: Action,
    },
}

const ALLOWED: Action = Action::Allow;
/// "Permission denied" (DENIED): what files and sockets get.
const DENIED: Action = Action::Errno(libc::EACCES);
/// "Operation not permitted" (NOT_PERMITTED): what everything else gets.
const NOT_PERMITTED: Action = Action::Errno(libc::EPERM);

/// What every system call not listed gets.
const DEFAULT: Action = NOT_PERMITTED;

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;

const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;

// struct seccomp_data: nr, arch, instruction pointer, then six 64-bit arguments.
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
fn arg_low(arg: u32) -> u32 {
    16 + 8 * arg
}
fn arg_high(arg: u32) -> u32 {
    arg_low(arg) + 4
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;

/// x86_64's x32 system calls carry this bit; the filter refuses them all.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The instructions of one rule; the accumulator holds the syscall number on
/// entry, and every path ends in a return.
fn block(rule: &Rule) -> Vec<libc::sock_filter> {
    match rule {
        Rule::Always(a) => vec![stmt(RET_K, a.ret())],
        Rule::AnyBit {
            arg,
            mask,
            hit,
            miss,
        } => vec![
            stmt(LD_W_ABS, arg_low(*arg)),
            jump(JSET_K, *mask, 0, 1),
            stmt(RET_K, hit.ret()),
            stmt(RET_K, miss.ret()),
        ],
        Rule::Equals {
            arg,
            value,
            hit,
            miss,
        } => vec![
            stmt(LD_W_ABS, arg_low(*arg)),
            jump(JEQ_K, *value as u32, 0, 3),
            stmt(LD_W_ABS, arg_high(*arg)),
            jump(JEQ_K, (*value >> 32) as u32, 0, 1),
            stmt(RET_K, hit.ret()),
            stmt(RET_K, miss.ret()),
        ],
        Rule::OneOf {
            arg,
            values,
            hit,
            miss,
        } => {
            let n = values.len();
            let mut out = vec![
                stmt(LD_W_ABS, arg_high(*arg)),
                jump(JEQ_K, 0, 0, (n + 1) as u8),
                stmt(LD_W_ABS, arg_low(*arg)),
            ];
            for (i, v) in values.iter().enumerate() {
                out.push(jump(JEQ_K, *v, (n - i) as u8, 0));
            }
            out.push(stmt(RET_K, miss.ret()));
            out.push(stmt(RET_K, hit.ret()));
            out
        }
    }
}

/// The rules, by system call number, for a process whose id is `pid`.
fn rules(pid: u32) -> Vec<(libc::c_long, Rule)> {
    use libc::*;
    let allow = |nr: c_long| (nr, Rule::Always(ALLOWED));
    let mut list = vec![
        // Reading and writing the descriptors it has (the protocol socket, its log pipe).
        allow(SYS_read),
        allow(SYS_write),
        allow(SYS_readv),
        allow(SYS_writev),
        allow(SYS_pread64),
        allow(SYS_preadv),
        allow(SYS_lseek),
        allow(SYS_close),
        allow(SYS_fcntl),
        allow(SYS_fstat),
        // fstat() of glibc is fstatat(fd, "", AT_EMPTY_PATH); a path is refused.
        (
            SYS_newfstatat,
            Rule::AnyBit {
                arg: 3,
                mask: AT_EMPTY_PATH as u32,
                hit: ALLOWED,
                miss: DENIED,
            },
        ),
        (
            SYS_statx,
            Rule::AnyBit {
                arg: 2,
                mask: AT_EMPTY_PATH as u32,
                hit: ALLOWED,
                miss: DENIED,
            },
        ),
        (SYS_ioctl, Rule::Always(Action::Errno(ENOTTY))),
        // Memory, never executable.
        (
            SYS_mmap,
            Rule::AnyBit {
                arg: 2,
                mask: PROT_EXEC as u32,
                hit: DENIED,
                miss: ALLOWED,
            },
        ),
        (
            SYS_mprotect,
            Rule::AnyBit {
                arg: 2,
                mask: PROT_EXEC as u32,
                hit: DENIED,
                miss: ALLOWED,
            },
        ),
        allow(SYS_munmap),
        allow(SYS_mremap),
        allow(SYS_madvise),
        allow(SYS_brk),
        // Threads (GDAL may start some), never new processes; clone3's flags are
        // behind a pointer, so glibc is told it does not exist and uses clone.
        (
            SYS_clone,
            Rule::AnyBit {
                arg: 0,
                mask: CLONE_THREAD as u32,
                hit: ALLOWED,
                miss: NOT_PERMITTED,
            },
        ),
        (SYS_clone3, Rule::Always(Action::Errno(ENOSYS))),
        allow(SYS_futex),
        allow(SYS_set_robust_list),
        allow(SYS_rseq),
        allow(SYS_sched_yield),
        allow(SYS_sched_getaffinity),
        // Signals to itself only (abort() raises SIGABRT with tgkill).
        allow(SYS_rt_sigaction),
        allow(SYS_rt_sigprocmask),
        allow(SYS_rt_sigreturn),
        allow(SYS_sigaltstack),
        allow(SYS_restart_syscall),
        (
            SYS_tgkill,
            Rule::Equals {
                arg: 0,
                value: u64::from(pid),
                hit: ALLOWED,
                miss: NOT_PERMITTED,
            },
        ),
        allow(SYS_exit),
        allow(SYS_exit_group),
        // Facts about itself and the time.
        allow(SYS_getpid),
        allow(SYS_gettid),
        allow(SYS_getppid),
        allow(SYS_getuid),
        allow(SYS_geteuid),
        allow(SYS_getgid),
        allow(SYS_getegid),
        allow(SYS_getrandom),
        allow(SYS_clock_gettime),
        allow(SYS_clock_getres),
        allow(SYS_gettimeofday),
        allow(SYS_nanosleep),
        allow(SYS_clock_nanosleep),
        allow(SYS_uname),
        allow(SYS_sysinfo),
        allow(SYS_getrusage),
        allow(SYS_times),
        allow(SYS_getrlimit),
        // Limits may be read (GDAL reads RLIMIT_AS), never changed.
        (
            SYS_prlimit64,
            Rule::Equals {
                arg: 2,
                value: 0,
                hit: ALLOWED,
                miss: NOT_PERMITTED,
            },
        ),
        // Thread names only.
        (
            SYS_prctl,
            Rule::OneOf {
                arg: 0,
                values: vec![PR_SET_NAME as u32, PR_GET_NAME as u32],
                hit: ALLOWED,
                miss: NOT_PERMITTED,
            },
        ),
        // Files and sockets: "permission denied", which every library handles.
        (SYS_openat, Rule::Always(DENIED)),
        (SYS_openat2, Rule::Always(DENIED)),
        (SYS_socket, Rule::Always(DENIED)),
        (SYS_socketpair, Rule::Always(DENIED)),
        (SYS_readlinkat, Rule::Always(DENIED)),
        (SYS_faccessat, Rule::Always(DENIED)),
        (SYS_faccessat2, Rule::Always(DENIED)),
    ];
    #[cfg(target_arch = "x86_64")]
    list.extend([
        allow(SYS_time),
        allow(SYS_arch_prctl),
        (SYS_open, Rule::Always(DENIED)),
        (SYS_creat, Rule::Always(DENIED)),
        (SYS_stat, Rule::Always(DENIED)),
        (SYS_lstat, Rule::Always(DENIED)),
        (SYS_access, Rule::Always(DENIED)),
        (SYS_readlink, Rule::Always(DENIED)),
    ]);
    list
}

/// The whole program for a process whose id is `pid`.
fn program(pid: u32) -> Vec<libc::sock_filter> {
    let mut prog = vec![
        stmt(LD_W_ABS, OFFSET_ARCH),
        jump(JEQ_K, AUDIT_ARCH, 1, 0),
        stmt(RET_K, SECCOMP_RET_KILL_PROCESS),
        stmt(LD_W_ABS, OFFSET_NR),
        jump(JGE_K, X32_SYSCALL_BIT, 0, 1),
        stmt(RET_K, SECCOMP_RET_KILL_PROCESS),
    ];
    for (nr, rule) in rules(pid) {
        let body = block(&rule);
        prog.push(jump(JEQ_K, nr as u32, 0, body.len() as u8));
        prog.extend(body);
    }
    prog.push(stmt(RET_K, DEFAULT.ret()));
    prog
}

/// Install the filter on every thread of this process, for good.
pub(crate) fn install() -> io::Result<()> {
    let prog = program(std::process::id());
    let fprog = libc::sock_fprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    const SECCOMP_SET_MODE_FILTER: libc::c_long = 1;
    const SECCOMP_FILTER_FLAG_TSYNC: libc::c_long = 1;
    // SAFETY: plain prctl; the program outlives the seccomp call, which copies it.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        let rc = libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            SECCOMP_FILTER_FLAG_TSYNC,
            &fprog as *const libc::sock_fprog,
        );
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run the program on a system call, as the kernel would.
    fn run(prog: &[libc::sock_filter], nr: i64, args: [u64; 6]) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&(nr as u32).to_le_bytes());
        data[4..8].copy_from_slice(&AUDIT_ARCH.to_le_bytes());
        for (i, a) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let ins = prog[pc];
            match ins.code {
                LD_W_ABS => {
                    let k = ins.k as usize;
                    acc = u32::from_le_bytes(data[k..k + 4].try_into().unwrap());
                }
                RET_K => return ins.k,
                JEQ_K | JGE_K | JSET_K => {
                    let taken = match ins.code {
                        JEQ_K => acc == ins.k,
                        JGE_K => acc >= ins.k,
                        _ => acc & ins.k != 0,
                    };
                    pc += usize::from(if taken { ins.jt } else { ins.jf });
                }
                other => panic!("unexpected opcode {other:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn answers_each_system_call_as_its_rule_says() {
        let pid = 4242;
        let prog = program(pid);
        assert!(prog.len() < u16::MAX as usize);
        let call = |nr: libc::c_long, args: [u64; 6]| run(&prog, nr, args);
        let allow = ALLOWED.ret();
        let eacces = DENIED.ret();
        let eperm = NOT_PERMITTED.ret();
        assert_eq!(call(libc::SYS_read, [0; 6]), allow);
        assert_eq!(call(libc::SYS_openat, [0; 6]), eacces);
        assert_eq!(call(libc::SYS_socket, [2, 1, 0, 0, 0, 0]), eacces);
        assert_eq!(call(libc::SYS_execve, [0; 6]), eperm);
        assert_eq!(call(libc::SYS_kill, [1, 9, 0, 0, 0, 0]), eperm);
        // fstat yes, stat of a path no
        let empty = libc::AT_EMPTY_PATH as u64;
        assert_eq!(call(libc::SYS_newfstatat, [3, 0, 0, empty, 0, 0]), allow);
        assert_eq!(call(libc::SYS_newfstatat, [3, 0, 0, 0, 0, 0]), eacces);
        // threads yes, processes no
        let thread = (libc::CLONE_VM | libc::CLONE_THREAD) as u64;
        assert_eq!(call(libc::SYS_clone, [thread, 0, 0, 0, 0, 0]), allow);
        assert_eq!(call(libc::SYS_clone, [17, 0, 0, 0, 0, 0]), eperm);
        assert_eq!(
            call(libc::SYS_clone3, [0; 6]),
            Action::Errno(libc::ENOSYS).ret()
        );
        // executable memory no
        let rw = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let rx = (libc::PROT_READ | libc::PROT_EXEC) as u64;
        assert_eq!(call(libc::SYS_mmap, [0, 4096, rw, 0, 0, 0]), allow);
        assert_eq!(call(libc::SYS_mprotect, [0, 4096, rx, 0, 0, 0]), eacces);
        // signals to itself only; limits read, not written
        assert_eq!(call(libc::SYS_tgkill, [4242, 4242, 6, 0, 0, 0]), allow);
        assert_eq!(call(libc::SYS_tgkill, [1, 1, 9, 0, 0, 0]), eperm);
        assert_eq!(
            call(libc::SYS_tgkill, [4242 | 1 << 32, 1, 9, 0, 0, 0]),
            eperm
        );
        assert_eq!(call(libc::SYS_prlimit64, [0, 9, 0, 0x7000, 0, 0]), allow);
        assert_eq!(call(libc::SYS_prlimit64, [0, 9, 0x7000, 0, 0, 0]), eperm);
        // thread names, nothing else of prctl
        let name = libc::PR_SET_NAME as u64;
        assert_eq!(call(libc::SYS_prctl, [name, 0, 0, 0, 0, 0]), allow);
        let nnp = libc::PR_SET_NO_NEW_PRIVS as u64;
        assert_eq!(call(libc::SYS_prctl, [nnp, 0, 0, 0, 0, 0]), eperm);
        assert_eq!(
            call(libc::SYS_prctl, [name | 1 << 32, 0, 0, 0, 0, 0]),
            eperm
        );
        // x32 calls and unknown numbers
        assert_eq!(
            call(X32_SYSCALL_BIT as i64, [0; 6]),
            SECCOMP_RET_KILL_PROCESS
        );
        assert_eq!(call(999, [0; 6]), eperm);
    }
}
