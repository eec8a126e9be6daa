//! A TCP listener with a bound on open connections and on their idle time. Which
//! connections are taken is the front door's to decide (`door`): past the cap or an
//! address's share a new connection is still accepted, answered `503` with
//! `Retry-After` and closed, at once, within a budget of such answers per second; past
//! the budget, connections wait in the kernel's backlog. A connection that neither sends nor receives for the idle limit is closed, so
//! silent or vanished clients cannot hold permits forever. Every read of a connection
//! notes when the kernel received its bytes (`door::sojourn`), so a request's wait is
//! counted from its arrival, not from when murphy got round to it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};

use super::door::sojourn::{self, Arrivals};
use super::door::{Door, Slot};
use crate::metrics::Shed;

pub(crate) struct LimitedListener {
    inner: TcpListener,
    /// Decides which connections are taken.
    door: Arc<Door>,
    idle_time_max: Duration,
    /// Connections being turned away at once; past it, they are closed unanswered.
    turning_away: Arc<Semaphore>,
}

/// Connections answered `503` and closed at the same time, at most.
const TURNING_AWAY_CONNECTIONS_MAX: usize = 1024;

/// How long turning a connection away may take: writing the answer and waiting for the
/// client to close (so the kernel does not reset the answer away).
const TURN_AWAY_TIME_MAX: Duration = Duration::from_millis(500);

impl LimitedListener {
    pub(crate) fn new(inner: TcpListener, door: Arc<Door>, idle_time_max: Duration) -> LimitedListener {
        // Asked on the listener too, so the kernel stamps from the first connection on
        // (accepted sockets inherit the option, and it is turned on a moment after the
        // first socket asks).
        sojourn::ask_for_timestamps(&inner);
        LimitedListener {
            inner,
            door,
            idle_time_max,
            turning_away: Arc::new(Semaphore::new(TURNING_AWAY_CONNECTIONS_MAX)),
        }
    }

    /// Answers a refused connection `503` and closes it, on a task of its own; or closes
    /// it unanswered when the door's budget for answers is spent.
    fn turn_away(&self, mut stream: TcpStream, why: Shed) {
        let Ok(slot) = self.turning_away.clone().try_acquire_owned() else {
            return; // dropped: closed unanswered, at worst, under a flood of connects
        };
        let Some(answer) = self.door.turn_away(why) else {
            return;
        };
        tokio::spawn(async move {
            let _slot = slot;
            let _ = tokio::time::timeout(TURN_AWAY_TIME_MAX, async {
                stream.write_all(&answer).await?;
                stream.shutdown().await?;
                // Read what the client sent until it closes: closing with unread bytes
                // would make the kernel reset the connection, and lose the answer.
                let mut sink = [0u8; 1024];
                while stream.read(&mut sink).await? > 0 {}
                Ok::<_, io::Error>(())
            })
            .await;
        });
    }
}

/// A connection holding its place (`Slot`) until it closes.
pub(crate) struct LimitedStream {
    stream: TcpStream,
    /// When the bytes it read arrived.
    arrivals: Arc<Arrivals>,
    slot: Arc<Slot>,
    idle_time_max: Duration,
    /// The last read or write that made progress.
    active_at: Instant,
    /// Fires no earlier than `idle_time_max` after `active_at`. Activity only records
    /// the time; the timer is moved when it fires early, so a busy connection costs a
    /// clock read per operation, not a timer update.
    idle: Pin<Box<Sleep>>,
}

impl LimitedStream {
    /// When the bytes read from this connection arrived: its requests take their times.
    pub(crate) fn arrivals(&self) -> Arc<Arrivals> {
        self.arrivals.clone()
    }

    /// Its place among the connections: its student's share is counted there.
    pub(crate) fn slot(&self) -> Arc<Slot> {
        self.slot.clone()
    }

    /// Reads with `recvmsg`, noting when the kernel received the bytes read.
    fn read_stamped(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Err(e) = std::task::ready!(self.stream.poll_read_ready(cx)) {
                return Poll::Ready(Err(e));
            }
            // SAFETY: recvmsg writes only into the unfilled part; what it wrote is
            // marked initialized below, nothing else.
            let unfilled = unsafe { buf.unfilled_mut() };
            let stream = &self.stream;
            match stream.try_io(Interest::READABLE, || sojourn::recv_stamped(stream, unfilled)) {
                Ok((read, stamped)) => {
                    // SAFETY: the kernel initialized `read` bytes of the unfilled part.
                    unsafe { buf.assume_init(read) };
                    buf.advance(read);
                    if read > 0 {
                        self.arrivals.read(stamped.unwrap_or_else(sojourn::now_ns));
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Counts progress as activity; while pending, checks the idle deadline.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(result) => {
                self.active_at = Instant::now();
                Poll::Ready(result)
            }
            Poll::Pending if self.idle_for_too_long(cx) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Whether the connection has been idle for `idle_time_max`; else (re)arms the timer.
    fn idle_for_too_long(&mut self, cx: &mut Context<'_>) -> bool {
        while self.idle.as_mut().poll(cx).is_ready() {
            let deadline = self.active_at + self.idle_time_max;
            if deadline <= Instant::now() {
                return true;
            }
            self.idle.as_mut().reset(deadline);
        }
        false
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            // Past the cap and the budget for refusals, connections wait in the backlog.
            self.door.room().await;
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let slot = match self.door.connection(addr.ip()) {
                        Ok(slot) => slot,
                        Err(why) => {
                            self.turn_away(stream, why);
                            continue;
                        }
                    };
                    // Answers are small and latency matters more than packet count.
                    let _ = stream.set_nodelay(true);
                    sojourn::ask_for_timestamps(&stream);
                    let idle = Box::pin(tokio::time::sleep(self.idle_time_max));
                    let io = LimitedStream {
                        stream,
                        arrivals: Arc::default(),
                        slot: Arc::new(slot),
                        idle_time_max: self.idle_time_max,
                        active_at: Instant::now(),
                        idle,
                    };
                    return (io, addr);
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let poll = self.read_stamped(cx, buf);
        self.watch(cx, poll)
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
