//! Resource limits (`setrlimit`, which every platform allows): the worker's
//! own at start, and the CPU time of one record set from outside by the
//! process that hands it work (`prlimit` on its pid).

#![allow(unsafe_code)] // getrlimit/setrlimit/prlimit take raw pointers

use std::io;

/// The limits a worker runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Address space in bytes (`RLIMIT_AS`): allocations past it fail.
    pub address_space: u64,
    /// Open descriptors (`RLIMIT_NOFILE`).
    pub open_files: u64,
}

fn set(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: value as libc::rlim_t,
        rlim_max: value as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct we pass.
    if unsafe { libc::setrlimit(resource, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Apply `limits` to this process, plus no files written (`RLIMIT_FSIZE` 0;
/// not under an emulator, whose own code cache is a file it grows) and no
/// core dumps; soft and hard alike, so they cannot be raised again.
pub(crate) fn apply(limits: &Limits, emulated: bool) -> io::Result<String> {
    set(libc::RLIMIT_AS, limits.address_space)?;
    set(libc::RLIMIT_NOFILE, limits.open_files)?;
    if !emulated {
        set(libc::RLIMIT_FSIZE, 0)?;
    }
    set(libc::RLIMIT_CORE, 0)?;
    Ok(format!(
        "address space {} MiB, {} descriptors, {}, no core dumps",
        limits.address_space >> 20,
        limits.open_files,
        if emulated {
            "file writes allowed (the emulator writes its own)"
        } else {
            "no file writes"
        }
    ))
}

/// Let process `pid` (a worker of ours) use CPU time up to `seconds` in all
/// (`RLIMIT_CPU` soft limit: the kernel sends SIGXCPU at it, and SIGKILL
/// one second later). The hard limit stays.
pub fn set_cpu_seconds(pid: u32, seconds: u64) -> io::Result<()> {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let pid = pid as libc::pid_t;
    // SAFETY: prlimit reads `new` (when non-null) and writes `old`.
    unsafe {
        if libc::prlimit(pid, libc::RLIMIT_CPU, std::ptr::null(), &mut old) != 0 {
            return Err(io::Error::last_os_error());
        }
        let new = libc::rlimit {
            rlim_cur: (seconds as libc::rlim_t).min(old.rlim_max),
            rlim_max: old.rlim_max,
        };
        if libc::prlimit(pid, libc::RLIMIT_CPU, &new, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// CPU time (user and system) process `pid` has used, from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> io::Result<std::time::Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name is in parentheses and may hold spaces: fields count after it.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| io::Error::other("unreadable /proc stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = |i: usize| -> io::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::other("unreadable /proc stat"))
    };
    let total = ticks(11)? + ticks(12)?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Ok(std::time::Duration::from_millis(total * 1000 / per_second))
}
