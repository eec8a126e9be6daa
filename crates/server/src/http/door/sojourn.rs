//! The real wait: when a request's bytes reached this machine. Under overload a request
//! waits before any code of murphy's runs: in the kernel's socket buffer until a worker
//! reads it, then in tokio's run queue. Only the kernel knows when its bytes arrived, so
//! every accepted socket asks for receive timestamps (`SO_TIMESTAMPNS`) and the
//! connection's reads go through `recvmsg`, which hands back the arrival time of the
//! bytes read with them. A request's sojourn is the time from that instant to the moment
//! murphy starts on it.
//!
//! Where the kernel gives no timestamp (another OS, or an option refused), the earliest
//! instant murphy sees instead is the read itself: the wait in the socket buffer is then
//! missed, the wait in the run queue still counted.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The arrival times of one connection's bytes, in nanoseconds since the Unix epoch
/// (the kernel stamps with the real-time clock). The reader records each read's; the
/// request takes the earliest it has not yet taken.
#[derive(Default)]
pub(crate) struct Arrivals {
    /// The arrival of the first bytes read since a request last took its time; 0: none.
    first_untaken_ns: AtomicU64,
    /// The arrival of the bytes of the last read.
    last_ns: AtomicU64,
}

impl Arrivals {
    /// Records that bytes which arrived at `at_ns` were read.
    pub(crate) fn read(&self, at_ns: u64) {
        self.last_ns.store(at_ns, Relaxed);
        let _ = self.first_untaken_ns.compare_exchange(0, at_ns, Relaxed, Relaxed);
    }

    /// When the request murphy starts on now arrived: the first bytes read since the
    /// previous request took its time, or, for a request that came in the same read as
    /// the one before it (pipelined), that read's arrival.
    pub(crate) fn take(&self) -> u64 {
        match self.first_untaken_ns.swap(0, Relaxed) {
            0 => self.last_ns.load(Relaxed),
            first => first,
        }
    }
}

/// Now, in nanoseconds since the Unix epoch: the clock the kernel stamps with.
pub(crate) fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(u128::from(u64::MAX)) as u64)
}

/// How long a request that arrived at `arrived_ns` has waited at `now_ns`, in
/// microseconds (0 if the clock stepped back).
pub(crate) fn waited_us(arrived_ns: u64, now_ns: u64) -> u64 {
    now_ns.saturating_sub(arrived_ns) / 1_000
}

/// Asks the kernel to stamp the bytes `socket` receives. `false` where it cannot: the
/// reads then stamp with the time they run.
pub(crate) fn ask_for_timestamps(socket: &impl AsRawFd) -> bool {
    #[cfg(target_os = "linux")]
    {
        let on: libc::c_int = 1;
        // SAFETY: a valid socket, an int option of the right size.
        let set = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&raw const on).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        set == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        false
    }
}

/// Room for one `SCM_TIMESTAMPNS` control message.
#[cfg(target_os = "linux")]
const CONTROL_BYTES: usize = 64;

/// One `recvmsg` into `buf`: the bytes read, and when the kernel received them (`None`
/// when it did not say). Never blocks on a non-blocking socket (`WouldBlock` instead).
#[cfg(target_os = "linux")]
pub(crate) fn recv_stamped(socket: &impl AsRawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<(usize, Option<u64>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // u64s, so the control buffer is aligned as cmsghdr needs.
    let mut control = [0u64; CONTROL_BYTES / 8];
    // SAFETY: zeroed msghdr is a valid empty header; the pointers set below outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = CONTROL_BYTES as _;
    // SAFETY: `buf` is writable for its length; the kernel writes at most that much.
    let read = unsafe { libc::recvmsg(socket.as_raw_fd(), &raw mut msg, 0) };
    if read < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((read as usize, timestamp(&msg)))
}

/// The `SCM_TIMESTAMPNS` of a received message, in nanoseconds since the epoch.
#[cfg(target_os = "linux")]
fn timestamp(msg: &libc::msghdr) -> Option<u64> {
    // SAFETY: `msg` was filled by recvmsg; the CMSG macros walk its control buffer
    // within `msg_controllen`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                let ns = (ts.tv_sec as u64)
                    .checked_mul(1_000_000_000)?
                    .checked_add(ts.tv_nsec as u64)?;
                return (ns > 0).then_some(ns);
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
        None
    }
}

/// Elsewhere: a plain read, stamped by the caller.
#[cfg(not(target_os = "linux"))]
pub(crate) fn recv_stamped(socket: &impl AsRawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<(usize, Option<u64>)> {
    // SAFETY: `buf` is writable for its length.
    let read = unsafe { libc::recv(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if read < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((read as usize, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    #[test]
    fn a_request_taken_later_keeps_the_arrival_of_its_first_bytes() {
        let arrivals = Arrivals::default();
        arrivals.read(100);
        arrivals.read(200); // the rest of the same request
        assert_eq!(arrivals.take(), 100);
        // A second request in the same read as the first: that read's arrival.
        assert_eq!(arrivals.take(), 200);
        arrivals.read(300);
        assert_eq!(arrivals.take(), 300);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_kernel_stamps_bytes_when_they_arrive_not_when_they_are_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        assert!(ask_for_timestamps(&server), "Linux stamps received bytes");
        // The kernel turns its stamping on for the first socket that asks a moment later
        // (a deferred static key): let it.
        std::thread::sleep(Duration::from_millis(20));
        let sent = now_ns();
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        // The bytes sit in the socket buffer while nobody reads.
        std::thread::sleep(Duration::from_millis(50));
        let mut buf = [MaybeUninit::<u8>::uninit(); 64];
        let (read, stamped) = recv_stamped(&server, &mut buf).unwrap();
        let read_at = now_ns();
        assert_eq!(read, 18);
        let stamped = stamped.expect("a timestamp");
        assert!(stamped >= sent - 1_000_000, "stamped {stamped}, sent {sent}");
        let waited = waited_us(stamped, read_at);
        assert!(waited >= 45_000, "the wait in the kernel is counted: {waited} us");
    }
}
