//! Keeping the log's WAL small without the answer path paying for it: a thread copies
//! committed pages from the WAL into the database file (a passive checkpoint, which
//! never waits for the writer), and the writer restarts the WAL between appends once it
//! passes a size (a busy writer never lets SQLite restart it by itself). A restart keeps
//! the file: later appends overwrite it in place, so an append's sync flushes data, not
//! a growing file's size.

use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::Result;

/// How often committed pages are moved from the log's WAL into its file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// How often a checkpoint that keeps failing is reported.
const WARN_INTERVAL: Duration = Duration::from_secs(60);

/// The checkpointing thread; it stops when this is dropped.
pub(super) struct Checkpointer {
    stop: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = sync_channel::<()>(0);
        let thread = std::thread::Builder::new()
            .name("murphy-checkpoint".into())
            .spawn(move || {
                let mut failing_since: Option<std::time::Instant> = None;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_INTERVAL) {
                    let result: rusqlite::Result<i64> =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1));
                    match (result, failing_since) {
                        (Ok(_), Some(_)) => {
                            tracing::info!("checkpoints of the log work again");
                            failing_since = None;
                        }
                        (Ok(_), None) => {}
                        // Said once when it starts failing, then once a minute: not ten
                        // times a second.
                        (Err(e), since) if since.is_none_or(|s| s.elapsed() >= WARN_INTERVAL) => {
                            tracing::warn!("checkpoint of the log failed (its WAL grows until one succeeds): {e}");
                            failing_since = Some(std::time::Instant::now());
                        }
                        (Err(_), _) => {}
                    }
                }
            })
            .map_err(|e| crate::StoreError::Open {
                what: "the log checkpointer",
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Restarts the WAL of `conn` (the writer's): the next append writes from the WAL's
/// start again. The checkpointer has copied nearly everything already, so this costs the
/// last frames. A reader in the way makes it give up after a moment, to try after the
/// next append. Returns whether it restarted.
pub(super) fn restart_wal(conn: &Connection) -> Result<bool> {
    conn.busy_timeout(Duration::from_millis(20))?;
    let busy: rusqlite::Result<i64> = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get(0));
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(busy? == 0)
}
