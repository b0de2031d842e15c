//! Memory and CPU of a process, from Linux's `/proc` (absent elsewhere:
//! every reading is optional).

use std::path::PathBuf;

/// Clock ticks per second of `/proc/PID/stat` times. Linux fixes USER_HZ at
/// 100 on every architecture it exports it to user space on.
const TICKS_PER_SECOND: f64 = 100.0;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    /// Resident set now, megabytes.
    pub rss_mb: Option<f64>,
    /// Peak resident set since the process started (`VmHWM`), megabytes.
    pub peak_rss_mb: Option<f64>,
    /// User + system CPU seconds since the process started.
    pub cpu_seconds: Option<f64>,
}

fn proc_file(pid: Option<u32>, name: &str) -> PathBuf {
    match pid {
        Some(pid) => PathBuf::from(format!("/proc/{pid}/{name}")),
        None => PathBuf::from(format!("/proc/self/{name}")),
    }
}

/// Reads process `pid` (this process when `None`).
pub fn read(pid: Option<u32>) -> Reading {
    let status = std::fs::read_to_string(proc_file(pid, "status")).unwrap_or_default();
    let stat = std::fs::read_to_string(proc_file(pid, "stat")).unwrap_or_default();
    Reading {
        rss_mb: status_kb(&status, "VmRSS:").map(|kb| kb / 1024.0),
        peak_rss_mb: status_kb(&status, "VmHWM:").map(|kb| kb / 1024.0),
        cpu_seconds: cpu_ticks(&stat).map(|t| t / TICKS_PER_SECOND),
    }
}

/// The value of a `Name:   1234 kB` line of `/proc/PID/status`, in kB.
pub fn status_kb(status: &str, field: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// utime + stime of `/proc/PID/stat`, in ticks. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after its last `)`.
pub fn cpu_ticks(stat: &str) -> Option<f64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_kilobytes() {
        let status = "Name:\tswitchboard\nVmHWM:\t  123456 kB\nVmRSS:\t   65432 kB\n";
        assert_eq!(status_kb(status, "VmHWM:"), Some(123456.0));
        assert_eq!(status_kb(status, "VmRSS:"), Some(65432.0));
        assert_eq!(status_kb(status, "VmSwap:"), None);
    }

    #[test]
    fn cpu_time_is_found_after_a_command_name_with_spaces() {
        let stat = "42 (tokio (worker) 1) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 1000 0 0";
        assert_eq!(cpu_ticks(stat), Some(300.0));
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn this_process_can_be_read_on_linux() {
        if cfg!(target_os = "linux") {
            let r = read(None);
            assert!(r.rss_mb.is_some_and(|m| m > 0.0));
            assert!(r.cpu_seconds.is_some());
        }
    }
}
