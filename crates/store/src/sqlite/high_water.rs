//! The log's high-water mark, `log.high-water`: the last LSN ever appended, kept outside
//! the log's files so that it survives their damage. A log whose WAL lost its tail
//! (storage damage, a bad copy) opens as a shorter log, and a server started on it
//! would hand out LSNs it has already answered; with the mark, start-up refuses it
//! instead, naming what to restore.
//!
//! Written after each append's commit (one 16-byte `pwrite` at offset 0, no sync on
//! the answer path: it is written after the log's own fsync, so it never runs ahead of
//! the durable log, and a mark lost with a power cut can only be behind, which refuses
//! nothing) and synced with each materializer step, off the answer path.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Result, StoreError};

/// The file's name in the data directory.
pub(super) const FILE_NAME: &str = "log.high-water";

/// Mixed into the stored check, so that a zeroed or foreign file is not read as a mark.
const CHECK_MIX: u64 = 0x6d75_7270_6879_4857; // "murphyHW"

/// The bytes stored: the LSN and its check, both little-endian.
const MARK_BYTES: usize = 16;

pub(super) struct HighWater {
    file: File,
    path: PathBuf,
    /// Whether a failed write has been reported (once, not per append).
    warned: AtomicBool,
}

impl HighWater {
    /// Opens the mark in `dir` and returns it with the LSN it holds; a missing file
    /// (a new data directory, or one from a release before marks) holds none.
    pub(super) fn open(dir: &Path) -> Result<(HighWater, Option<u64>)> {
        let path = dir.join(FILE_NAME);
        let fail = |e: std::io::Error| StoreError::Open {
            what: "the log's high-water mark",
            path: path.clone(),
            reason: e.to_string(),
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(fail)?;
        let mut bytes = [0u8; MARK_BYTES];
        let read = file.read_at(&mut bytes, 0).map_err(fail)?;
        let lsn = match read {
            0 => None,
            MARK_BYTES => Some(decode(&bytes).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "{} does not hold a high-water mark (damaged?); if log.sqlite3 is whole, delete the file \
                     and start again",
                    path.display()
                ))
            })?),
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "{} is {read} bytes, not a high-water mark's {MARK_BYTES}; if log.sqlite3 is whole, delete \
                     the file and start again",
                    path.display()
                )));
            }
        };
        let mark = HighWater {
            file,
            path,
            warned: AtomicBool::new(false),
        };
        Ok((mark, lsn))
    }

    /// Records that the log reaches `lsn`, durable in the log already. A failure is
    /// reported and otherwise ignored: the mark guards against damage, and must not
    /// stop writes that are safely in the log.
    pub(super) fn record(&self, lsn: u64) {
        if let Err(e) = self.file.write_at(&encode(lsn), 0)
            && !self.warned.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                "writing the log's high-water mark {} failed ({e}); a damaged log may then go unnoticed at start",
                self.path.display()
            );
        }
    }

    /// Makes the last recorded mark durable.
    pub(super) fn sync(&self) -> Result<()> {
        self.file.sync_data().map_err(|e| StoreError::Open {
            what: "the log's high-water mark",
            path: self.path.clone(),
            reason: format!("sync failed: {e}"),
        })
    }
}

fn encode(lsn: u64) -> [u8; MARK_BYTES] {
    let mut bytes = [0u8; MARK_BYTES];
    bytes[..8].copy_from_slice(&lsn.to_le_bytes());
    bytes[8..].copy_from_slice(&(lsn ^ CHECK_MIX).to_le_bytes());
    bytes
}

fn decode(bytes: &[u8; MARK_BYTES]) -> Option<u64> {
    let lsn = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    let check = u64::from_le_bytes(bytes[8..].try_into().expect("8 bytes"));
    (check == lsn ^ CHECK_MIX).then_some(lsn)
}

/// The one line that refuses a log ending at `log_lsn` when `seen_lsn`, past it, was
/// appended before (by the mark) or materialized (by the tables): the log lost its tail.
pub(super) fn refuse_short_log(dir: &Path, log_lsn: u64, seen_lsn: u64, by: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "the log in {} ends at lsn {log_lsn}, but {by} reached lsn {seen_lsn}: the log lost entries it had \
         answered (a damaged or truncated log.sqlite3-wal, or an older copy). Restore log.sqlite3 with its \
         log.sqlite3-wal from a backup that reaches lsn {seen_lsn}; to start from the shorter log anyway, \
         answered writes lost, delete {FILE_NAME} and restore tables.sqlite3 from a copy no further than lsn \
         {log_lsn}, or delete it",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_reads_back_and_garbage_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let (mark, lsn) = HighWater::open(dir.path()).unwrap();
        assert_eq!(lsn, None, "a new directory has no mark");
        mark.record(41);
        mark.record(42);
        mark.sync().unwrap();
        drop(mark);
        assert_eq!(HighWater::open(dir.path()).unwrap().1, Some(42));
        std::fs::write(dir.path().join(FILE_NAME), [7u8; MARK_BYTES]).unwrap();
        assert!(HighWater::open(dir.path()).is_err(), "garbage is not a mark");
        std::fs::write(dir.path().join(FILE_NAME), [7u8; 3]).unwrap();
        assert!(HighWater::open(dir.path()).is_err(), "nor a short file");
    }
}
