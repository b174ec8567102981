//! Captured guest stdout/stderr: a per-instance buffer capped at `Limits::max_stdio`.
//!
//! Writes past the cap succeed for the guest (so a chatty plugin is not broken by its own
//! logging) but the bytes are dropped and counted. The host drains the buffer after every
//! call, so the cap applies per call and host memory stays bounded.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// One capped output stream (clone = same buffer).
#[derive(Debug, Clone)]
pub(crate) struct Capture {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Set by every write, so that draining an untouched stream after a call costs one
    /// atomic load instead of a lock.
    written: AtomicBool,
    buffer: Mutex<Buffer>,
}

#[derive(Debug, Default)]
struct Buffer {
    cap: usize,
    data: Vec<u8>,
    dropped: u64,
}

/// What a stream captured during one call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Captured {
    pub data: Vec<u8>,
    pub dropped: u64,
}

impl Captured {
    /// Nothing written and nothing dropped.
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty() && self.dropped == 0
    }
}

impl Capture {
    pub(crate) fn new(cap: usize) -> Self {
        Capture {
            inner: Arc::new(Shared {
                written: AtomicBool::new(false),
                buffer: Mutex::new(Buffer {
                    cap,
                    ..Buffer::default()
                }),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        self.inner.buffer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, bytes: &[u8]) {
        self.inner.written.store(true, Ordering::Release);
        let mut b = self.lock();
        let room = b.cap.saturating_sub(b.data.len());
        let kept = bytes.len().min(room);
        b.data.extend_from_slice(&bytes[..kept]);
        b.dropped += (bytes.len() - kept) as u64;
    }

    /// Takes what was captured since the last call, leaving the buffer empty.
    pub(crate) fn take(&self) -> Captured {
        // A plain load first: most calls write nothing, and a swap is a locked instruction.
        if !self.inner.written.load(Ordering::Acquire)
            || !self.inner.written.swap(false, Ordering::Acquire)
        {
            return Captured::default();
        }
        let mut b = self.lock();
        if b.data.is_empty() && b.dropped == 0 {
            return Captured::default();
        }
        Captured {
            data: std::mem::take(&mut b.data),
            dropped: std::mem::take(&mut b.dropped),
        }
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_up_to_the_cap_and_counts_the_rest() {
        let c = Capture::new(5);
        c.push(b"abc");
        c.push(b"defg");
        assert_eq!(
            c.take(),
            Captured {
                data: b"abcde".to_vec(),
                dropped: 2
            }
        );
        assert_eq!(c.take(), Captured::default(), "drained");
        c.push(b"xy");
        assert_eq!(c.take().data, b"xy", "the cap applies per drain");
    }
}
