//! A TCP listener with a bound on open connections and on their idle time. At the bound
//! it stops accepting, so further clients wait in the kernel's backlog instead of costing
//! memory here; a connection that neither sends nor receives for the idle limit is
//! closed, so silent or vanished clients cannot hold permits forever.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    idle_time_max: Duration,
}

impl LimitedListener {
    pub fn new(inner: TcpListener, connections_max: usize, idle_time_max: Duration) -> LimitedListener {
        LimitedListener {
            inner,
            permits: Arc::new(Semaphore::new(connections_max)),
            idle_time_max,
        }
    }
}

/// A connection holding one permit until it closes.
pub struct LimitedStream {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    idle_time_max: Duration,
    /// The last read or write that made progress.
    active_at: Instant,
    /// Fires no earlier than `idle_time_max` after `active_at`. Activity only records
    /// the time; the timer is moved when it fires early, so a busy connection costs a
    /// clock read per operation, not a timer update.
    idle: Pin<Box<Sleep>>,
}

impl LimitedStream {
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
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    // Answers are small and latency matters more than packet count.
                    let _ = stream.set_nodelay(true);
                    let idle = Box::pin(tokio::time::sleep(self.idle_time_max));
                    let io = LimitedStream {
                        stream,
                        _permit: permit,
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
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
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
