//! One server per data directory. A second `murphy serve` over a directory another one
//! serves would read a log it does not own and, at its first write, collide with the
//! other's LSNs: the data directory's `murphy.lock` is locked exclusively (an advisory
//! `flock`, released by the kernel however the process ends, `kill -9` included) for
//! as long as the server runs, and holds the holder's process id for the error a
//! second start prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::ServerError;

pub const LOCK_FILE: &str = "murphy.lock";

/// The lock on a data directory, held until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Locks `dir` (which exists) for this process, or says which process holds it.
    pub fn acquire(dir: &Path) -> Result<DataDirLock, ServerError> {
        let path = dir.join(LOCK_FILE);
        let io = |cause| ServerError::Io {
            context: format!("locking the data directory with {}", path.display()),
            cause,
        };
        // Not truncated on open: until this process holds the lock, the id in the file
        // is the holder's.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(ServerError::Locked {
                    dir: dir.to_owned(),
                    holder: holder(&mut file),
                });
            }
            Err(TryLockError::Error(cause)) => return Err(io(cause)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DataDirLock { _file: file })
    }
}

/// The process id the holder wrote, if it reads as one.
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// The error's words: which process, if known, and what to do.
pub(crate) fn locked_message(dir: &Path, holder: Option<u32>) -> String {
    let who = holder.map_or_else(
        || "another murphy".to_owned(),
        |pid| format!("another murphy (process {pid})"),
    );
    format!(
        "{who} is serving the data directory {}; one server per data directory: stop that one first, \
         or choose another directory (--data-dir)",
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder_and_the_first_is_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let Err(ServerError::Locked { holder, .. }) = DataDirLock::acquire(dir.path()) else {
            panic!("a second lock was granted");
        };
        assert_eq!(holder, Some(std::process::id()));
        drop(first);
        DataDirLock::acquire(dir.path()).expect("released with its holder");
    }
}
