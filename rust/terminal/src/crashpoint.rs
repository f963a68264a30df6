//! Crash points for the crash-recovery tests: with the `crash-points` feature, a process whose
//! `SMARTPOS_DIE_AT` names a step prints `AT <step>` on stdout and waits to be killed (the test
//! parent sends SIGKILL). Without the feature this is a no-op the compiler removes.

/// Mark that `step` was reached (after its journal write).
#[cfg(feature = "crash-points")]
pub fn hit(step: &str) {
    if std::env::var("SMARTPOS_DIE_AT").is_ok_and(|s| s == step) {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "AT {step}");
        let _ = out.flush();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// Mark that `step` was reached (no-op without the `crash-points` feature).
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn hit(_step: &str) {}
