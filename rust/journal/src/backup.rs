//! Online backup (SQLite backup API, <https://sqlite.org/backup.html>): a consistent snapshot of
//! a live journal, taken in one step under a read transaction while other connections keep writing
//! (WAL mode lets writers proceed). The copy is a normal journal file: restore = open it.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};
use serde_json::json;

use crate::error::Result;
use crate::journal::{Journal, SYSTEM_OPERATOR, audit};

/// Copy the journal at `source` to `dest` through a connection of its own, while the owning
/// [`Journal`] (in this or another process) keeps writing. Returns the number of pages copied.
pub fn backup_file(
    source: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    busy_timeout: Duration,
) -> Result<i32> {
    let src =
        Connection::open_with_flags(source.as_ref(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(busy_timeout)?;
    copy(&src, dest.as_ref(), busy_timeout)
}

fn copy(src: &Connection, dest: &Path, busy_timeout: Duration) -> Result<i32> {
    let mut dst = Connection::open(dest)?;
    let pages;
    {
        let b = Backup::new(src, &mut dst)?;
        let deadline = Instant::now() + busy_timeout;
        loop {
            // -1: copy every page in one step, so the copy is one consistent snapshot.
            match b.step(-1)? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked
                    if Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                _ => {
                    return Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                        Some("backup: source stayed locked past the busy timeout".into()),
                    )
                    .into());
                }
            }
        }
        pages = b.progress().pagecount;
    }
    Ok(pages)
}

impl Journal {
    /// Copy the whole journal to `dest` (created or overwritten). Returns the number of pages.
    pub fn backup(&mut self, dest: impl AsRef<Path>) -> Result<i32> {
        let pages = copy(&self.conn, dest.as_ref(), self.config.busy_timeout)?;
        let now = self.now();
        audit(
            &self.conn,
            now,
            SYSTEM_OPERATOR,
            "journal.backup",
            None,
            &json!({ "pages": pages }),
        )?;
        Ok(pages)
    }
}
