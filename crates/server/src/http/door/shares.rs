//! Connections: the cap on all of them, and each address's and each student's share of
//! it, so one address or one student holding connections (live streams heartbeat, so
//! the idle limit never closes them) exhausts only its own share. A connection is
//! counted against its address when accepted, and against its student once one of its
//! requests authenticates as that student.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::Shed;

pub(crate) struct Shares {
    /// One permit per connection that may be open.
    permits: Arc<Semaphore>,
    per_address_max: usize,
    per_student_max: usize,
    addresses: Mutex<HashMap<IpAddr, usize>>,
    students: Mutex<HashMap<Arc<str>, usize>>,
}

impl Shares {
    pub(crate) fn new(connections_max: usize, per_address_max: usize, per_student_max: usize) -> Shares {
        Shares {
            permits: Arc::new(Semaphore::new(connections_max)),
            per_address_max,
            per_student_max,
            addresses: Mutex::default(),
            students: Mutex::default(),
        }
    }

    /// Whether another connection may open now.
    pub(crate) fn room(&self) -> bool {
        self.permits.available_permits() > 0
    }

    /// Returns once a connection has closed (or at once if one may open).
    pub(crate) async fn freed(&self) {
        let _ = self.permits.acquire().await;
    }

    /// A connection from `address`, counted until its `Slot` drops; or why not.
    pub(crate) fn open(self: &Arc<Self>, address: IpAddr) -> Result<Slot, Shed> {
        let permit = self
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Shed::Connections)?;
        let mut addresses = self.addresses.lock().expect("never poisoned");
        let held = addresses.entry(address).or_default();
        if *held >= self.per_address_max {
            return Err(Shed::AddressShare);
        }
        *held += 1;
        Ok(Slot {
            shares: self.clone(),
            address,
            student: Mutex::default(),
            closing: AtomicBool::new(false),
            _permit: permit,
        })
    }

    fn leave_address(&self, address: IpAddr) {
        let mut addresses = self.addresses.lock().expect("never poisoned");
        if let Some(held) = addresses.get_mut(&address) {
            *held -= 1;
            if *held == 0 {
                addresses.remove(&address);
            }
        }
    }

    /// Counts a connection for `student`; `false` past the student's share.
    fn join_student(&self, student: &Arc<str>) -> bool {
        let mut students = self.students.lock().expect("never poisoned");
        let held = students.entry(student.clone()).or_default();
        if *held >= self.per_student_max {
            if *held == 0 {
                students.remove(student);
            }
            return false;
        }
        *held += 1;
        true
    }

    fn leave_student(&self, student: &str) {
        let mut students = self.students.lock().expect("never poisoned");
        if let Some(held) = students.get_mut(student) {
            *held -= 1;
            if *held == 0 {
                students.remove(student);
            }
        }
    }

    #[cfg(test)]
    fn held_by(&self, student: &str) -> usize {
        self.students.lock().unwrap().get(student).copied().unwrap_or(0)
    }
}

/// One open connection's place: its permit, its address's count, and its student's
/// once known. Dropped when the connection closes.
pub(crate) struct Slot {
    shares: Arc<Shares>,
    address: IpAddr,
    student: Mutex<Option<Arc<str>>>,
    /// Set when the connection must close after its current answer.
    closing: AtomicBool,
    _permit: OwnedSemaphorePermit,
}

impl Slot {
    /// Counts this connection against `student`, who just authenticated on it; past the
    /// student's share it is refused and marked to close after the answer. A
    /// connection that changes hands (a proxy's, a shared browser's) moves its count.
    pub(crate) fn attribute(&self, student: &str) -> Result<(), Shed> {
        let mut held = self.student.lock().expect("never poisoned");
        if held.as_deref() == Some(student) {
            return Ok(());
        }
        let student: Arc<str> = student.into();
        if !self.shares.join_student(&student) {
            self.closing.store(true, Relaxed);
            return Err(Shed::StudentShare);
        }
        if let Some(before) = held.replace(student) {
            self.shares.leave_student(&before);
        }
        Ok(())
    }

    /// Whether the connection must close after its current answer.
    pub(crate) fn closing(&self) -> bool {
        self.closing.load(Relaxed)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shares.leave_address(self.address);
        if let Some(student) = self.student.get_mut().expect("never poisoned").take() {
            self.shares.leave_student(&student);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn an_address_past_its_share_leaves_room_for_others() {
        let shares = Arc::new(Shares::new(10, 3, 10));
        let held: Vec<Slot> = (0..3).map(|_| shares.open(ip(2)).unwrap()).collect();
        assert_eq!(shares.open(ip(2)).err(), Some(Shed::AddressShare));
        let other = shares.open(ip(3)).expect("another address connects");
        drop(held);
        assert!(shares.open(ip(2)).is_ok(), "closed connections free the share");
        drop(other);
        assert_eq!(shares.permits.available_permits(), 10, "every permit back");
        assert!(shares.addresses.lock().unwrap().is_empty(), "no count left behind");
    }

    #[test]
    fn a_student_past_its_share_is_refused_and_its_connection_closes() {
        let shares = Arc::new(Shares::new(10, 10, 2));
        let slots: Vec<Slot> = (0..3).map(|_| shares.open(ip(1)).unwrap()).collect();
        slots[0].attribute("s1").unwrap();
        slots[0].attribute("s1").unwrap(); // the same connection again: counted once
        slots[1].attribute("s1").unwrap();
        assert_eq!(slots[2].attribute("s1"), Err(Shed::StudentShare));
        assert!(slots[2].closing() && !slots[1].closing());
        slots[2].attribute("s2").expect("another student is not held back");
        // A connection that changes hands moves its count.
        slots[1].attribute("s2").unwrap();
        assert_eq!((shares.held_by("s1"), shares.held_by("s2")), (1, 2));
        drop(slots);
        assert_eq!((shares.held_by("s1"), shares.held_by("s2")), (0, 0));
    }
}
