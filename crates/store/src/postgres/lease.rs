//! The primary's lease. One node at a time holds it: a PostgreSQL advisory lock on a
//! session of its own (released by PostgreSQL the moment that session ends, so a dead
//! primary is replaced at once) and an epoch in `lease`, the fencing token every append
//! and every materializer step checks inside its transaction. A takeover increments
//! the epoch; from then on the old holder writes nothing.
//!
//! A holder that is alive but stuck (paused, cut off) keeps its session and so its
//! lock: the lease also has a time limit, renewed by the holder. A taker that finds the
//! lease expired (by the database's clock) ends the holder's lock session
//! (`pg_terminate_backend`) and takes over. This needs the right to end murphy's own
//! sessions: the same role, or membership in `pg_signal_backend`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ::postgres::Client;

use super::conn::{Conn, Pool, Role, Target, lock};
use super::schema::LOCK_TAG;
use super::{signed, unsigned};
use crate::codec::instant;
use crate::{Epoch, LeaseStatus, Result, StoreError};

/// How long `try_acquire` waits for the lock before it looks at the lease's expiry:
/// covers a holder whose session is closing right now (its lock goes a moment later).
pub const LOCK_WAIT_TIME_MAX: Duration = Duration::from_millis(200);
/// How long a taker waits for a deposed holder's session to end.
const TERMINATE_WAIT_TIME_MAX: Duration = Duration::from_secs(5);

const LOCK: &str = "SELECT pg_advisory_lock($1, 'lease'::regclass::oid::int)";
const TRY_LOCK: &str = "SELECT pg_try_advisory_lock($1, 'lease'::regclass::oid::int)";
/// The sessions that hold the lease's lock, other than this one.
const HOLDERS: &str = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid = $1::int::oid AND objid = 'lease'::regclass::oid AND objsubid = 2 AND pid <> pg_backend_pid()";

/// This node's side of the lease. Shared by the threads of one `Postgres`; the epoch
/// it holds is what the appender and the materializer write under.
pub struct Lease {
    target: Arc<Target>,
    readers: Arc<Pool>,
    /// The epoch held; 0 when none. Read by every append.
    held: Arc<AtomicU64>,
    /// The session that holds the advisory lock while `held` is set.
    session: std::sync::Mutex<Option<Conn>>,
}

impl Lease {
    pub(super) fn new(target: Arc<Target>, readers: Arc<Pool>) -> Lease {
        Lease {
            target,
            readers,
            held: Arc::new(AtomicU64::new(0)),
            session: std::sync::Mutex::new(None),
        }
    }

    /// The epoch this node holds, if any (as far as it knows: `renew` finds out).
    pub fn held(&self) -> Option<Epoch> {
        match self.held.load(Ordering::SeqCst) {
            0 => None,
            epoch => Some(Epoch(epoch)),
        }
    }

    pub(super) fn held_epoch(&self) -> u64 {
        self.held.load(Ordering::SeqCst)
    }

    /// Takes the lease for `node` for `lease_time`, if it is free, its holder's session
    /// is gone, or it has expired (then the holder's lock session is ended). Returns the
    /// new epoch, or `None` while another node holds it. When it returns, no append or
    /// materializer step of an older epoch can commit any more: the log's end is final
    /// for them, and the new holder must replay up to it before appending.
    pub fn try_acquire(&self, node: &str, lease_time: Duration) -> Result<Option<Epoch>> {
        if let Some(epoch) = self.held() {
            match self.renew(lease_time) {
                Ok(_) => return Ok(Some(epoch)),
                Err(StoreError::Fenced { .. }) => {} // lost it: compete again
                Err(e) => return Err(e),
            }
        }
        let mut session = lock(&self.session);
        let conn = open(&mut session, &self.target)?;
        let taken = self.take(&mut conn.client, node, lease_time);
        match taken {
            Ok(Some(epoch)) => {
                self.held.store(epoch, Ordering::SeqCst);
                Ok(Some(Epoch(epoch)))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                // Whatever happened, this session must not keep the lock unheld.
                *session = None;
                Err(e)
            }
        }
    }

    fn take(&self, client: &mut Client, node: &str, lease_time: Duration) -> Result<Option<u64>> {
        // Free (or its holder's session just ended), or expired and its holder deposed.
        let locked = lock_within(client, LOCK_WAIT_TIME_MAX)?
            || (depose_expired(client)? && lock_within(client, LOCK_WAIT_TIME_MAX)?);
        if !locked {
            return Ok(None);
        }
        let row = client.query_one(
            "UPDATE lease SET epoch = epoch + 1, holder = $1, pid = pg_backend_pid(),
                 expires_at = clock_timestamp() + $2 * interval '1 millisecond' RETURNING epoch",
            &[&node, &millis(lease_time)],
        )?;
        Ok(Some(unsigned(row.get(0))?))
    }

    /// Extends the lease held by `lease_time` from now. Returns the instant, by this
    /// node's clock, until which no taker can find it expired: measured from before the
    /// request was sent, so it ends first. (A taker may still take over sooner if the
    /// lock session ends: PostgreSQL restarted, the network failed; appends are fenced
    /// either way, and the next renewal tells.) If the lock session was lost it is
    /// opened again and the lock taken back, keeping the epoch if nobody took over
    /// meanwhile. `Err(Fenced)`: the lease is lost, this node holds no epoch any more
    /// and must step down. Other errors (PostgreSQL unreachable) leave the epoch held:
    /// its appends fail or are fenced, never wrongly accepted.
    pub fn renew(&self, lease_time: Duration) -> Result<Instant> {
        let sent = Instant::now();
        let held = self.held_epoch();
        if held == 0 {
            return Err(StoreError::Fenced {
                held: None,
                current: None,
            });
        }
        let mut session = lock(&self.session);
        let reopened = session.as_ref().is_none_or(|c| c.client.is_closed());
        let conn = open(&mut session, &self.target)?;
        let mut renewed = extend(&mut conn.client, held, lease_time, reopened);
        if !reopened && renewed.as_ref().is_err_and(StoreError::is_connection_lost) {
            // The session was lost since the last call: find out now, on a new one.
            *session = None;
            let conn = open(&mut session, &self.target)?;
            renewed = extend(&mut conn.client, held, lease_time, true);
        }
        match renewed {
            Ok(()) => Ok(sent + lease_time),
            Err(e) => {
                let fenced = matches!(e, StoreError::Fenced { .. });
                if fenced {
                    self.held.store(0, Ordering::SeqCst);
                }
                // A passing error keeps the session, and with it the lock.
                if fenced || e.is_connection_lost() {
                    *session = None;
                }
                Err(e)
            }
        }
    }

    /// Gives the lease up: it expires now and its lock is released, so another node
    /// takes over at once. This node holds no epoch afterwards.
    pub fn release(&self) -> Result<()> {
        let held = self.held.swap(0, Ordering::SeqCst);
        let mut session = lock(&self.session);
        let Some(conn) = session.as_mut() else {
            return Ok(());
        };
        let released = conn
            .client
            .execute(
                "UPDATE lease SET expires_at = clock_timestamp() WHERE epoch = $1",
                &[&signed(held)?],
            )
            .and_then(|_| conn.client.execute("SELECT pg_advisory_unlock_all()", &[]));
        *session = None;
        released?;
        Ok(())
    }

    /// The lease as the database sees it now.
    pub fn status(&self) -> Result<LeaseStatus> {
        self.readers.with(&self.target, |client| {
            let r = client.query_one(
                &format!(
                    "SELECT epoch, holder, (extract(epoch FROM expires_at) * 1e9)::bigint,
                         COALESCE(expires_at < clock_timestamp(), true),
                         EXISTS ({HOLDERS}), (SELECT COALESCE(max(lsn), 0) FROM log)
                     FROM lease"
                ),
                &[&LOCK_TAG],
            )?;
            Ok(LeaseStatus {
                epoch: unsigned(r.try_get(0)?)?,
                holder: r.try_get(1)?,
                expires_at: r.try_get::<_, Option<i64>>(2)?.map(instant).transpose()?,
                expired: r.try_get(3)?,
                locked: r.try_get(4)?,
                log_end: unsigned(r.try_get(5)?)?,
            })
        })
    }
}

/// The lock session, opened if it is not.
fn open<'s>(session: &'s mut Option<Conn>, target: &Target) -> Result<&'s mut Conn> {
    if session.as_ref().is_none_or(|c| c.client.is_closed()) {
        *session = None;
        *session = Some(target.connect(Role::Lease)?);
    }
    Ok(session.as_mut().expect("just opened"))
}

/// Takes the lease's lock, waiting up to `wait`; `false` if another session holds it.
fn lock_within(client: &mut Client, wait: Duration) -> Result<bool> {
    client.batch_execute(&format!("SET lock_timeout = {}", wait.as_millis().max(1)))?;
    let locked = client.execute(LOCK, &[&LOCK_TAG]);
    client.batch_execute("RESET lock_timeout")?;
    match locked {
        Ok(_) => Ok(true),
        Err(e) if e.code().is_some_and(|c| c.code() == "55P03") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Ends the lock session of a holder whose lease has expired; `false` if it has not.
/// The lease row is held meanwhile, so the holder cannot renew in between.
fn depose_expired(client: &mut Client) -> Result<bool> {
    let mut tx = client.transaction()?;
    let expired: bool = tx
        .query_one(
            "SELECT COALESCE(expires_at < clock_timestamp(), true) FROM lease FOR UPDATE",
            &[],
        )?
        .get(0);
    if expired {
        let wait = i64::try_from(TERMINATE_WAIT_TIME_MAX.as_millis()).expect("a few seconds");
        let holders = tx.query(&format!("SELECT pid FROM ({HOLDERS}) h"), &[&LOCK_TAG])?;
        for holder in holders {
            let pid: i32 = holder.get(0);
            tx.execute("SELECT pg_terminate_backend($1, $2)", &[&pid, &wait])?;
            tracing::warn!("the lease expired: ended the lock session (pid {pid}) of its holder");
        }
    }
    tx.commit()?;
    Ok(expired)
}

/// Extends the lease of epoch `held`, taking the lock back first on a `reopened`
/// session. `Fenced` if another node took the lease over.
fn extend(client: &mut Client, held: u64, lease_time: Duration, reopened: bool) -> Result<()> {
    if reopened && !client.query_one(TRY_LOCK, &[&LOCK_TAG])?.get::<_, bool>(0) {
        return Err(StoreError::Fenced {
            held: Some(held),
            current: None,
        });
    }
    let extended = client.query_opt(
        "UPDATE lease SET expires_at = clock_timestamp() + $2 * interval '1 millisecond', pid = pg_backend_pid()
         WHERE epoch = $1 RETURNING epoch",
        &[&signed(held)?, &millis(lease_time)],
    )?;
    if extended.is_some() {
        return Ok(());
    }
    let current = unsigned(client.query_one("SELECT epoch FROM lease", &[])?.get(0))?;
    Err(StoreError::Fenced {
        held: Some(held),
        current: Some(current),
    })
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl crate::PrimaryLease for Lease {
    fn try_acquire(&self, node: &str, lease_time: Duration) -> Result<Option<Epoch>> {
        Lease::try_acquire(self, node, lease_time)
    }

    fn renew(&self, lease_time: Duration) -> Result<Instant> {
        Lease::renew(self, lease_time)
    }

    fn release(&self) -> Result<()> {
        Lease::release(self)
    }

    fn status(&self) -> Result<LeaseStatus> {
        Lease::status(self)
    }
}
