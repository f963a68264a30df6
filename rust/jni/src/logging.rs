//! Logging backend behind the `log` facade: logcat on Android, stderr on the host when asked.

/// Install the backend once; later calls do nothing.
#[cfg(target_os = "android")]
pub(crate) fn init() {
    android_logger::init_once(
        android_logger::Config::default()
            .with_max_level(log::LevelFilter::Info)
            .with_tag("smartpos"),
    );
}

/// Install the backend once; later calls do nothing. Off unless `SMARTPOS_LOG` names a level
/// (`error`, `warn`, `info`, `debug`, `trace`): a host app may install its own `log` backend.
#[cfg(not(target_os = "android"))]
pub(crate) fn init() {
    let level = std::env::var("SMARTPOS_LOG")
        .ok()
        .and_then(|v| v.parse::<log::LevelFilter>().ok());
    if let Some(level) = level
        && log::set_logger(&STDERR).is_ok()
    {
        log::set_max_level(level);
    }
}

#[cfg(not(target_os = "android"))]
static STDERR: StderrLogger = StderrLogger;

#[cfg(not(target_os = "android"))]
struct StderrLogger;

#[cfg(not(target_os = "android"))]
impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "smartpos {} {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}
