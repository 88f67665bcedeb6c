//! Every client connection a listener has open, each with an id, and the
//! moment it closes. A remote control's motion may be owned by the
//! connection its events came on (a client without a session): when that
//! connection closes, or stops answering HTTP/2 keepalives (the server then
//! closes it), the motion stops.
//!
//! Each accepted socket is wrapped in a [`Tracked`] whose connect info
//! carries the [`ConnId`]; tonic puts it in every request's extensions.
//! Dropping the socket (hyper does when the connection ends, for any reason)
//! wakes whoever waits in [`closed`].

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tonic::transport::server::{Connected, TcpConnectInfo, TlsConnectInfo, UdsConnectInfo};

/// One client connection of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(u64);

impl ConnId {
    /// The number, as a driver's `Caller` carries it.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The connection numbered `n`.
    pub fn from_raw(n: u64) -> Self {
        Self(n)
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

static NEXT: AtomicU64 = AtomicU64::new(1);
/// The open connections: a receiver that errors once the connection is gone.
static OPEN: LazyLock<Mutex<HashMap<ConnId, watch::Receiver<()>>>> =
    LazyLock::new(Default::default);

fn open() -> std::sync::MutexGuard<'static, HashMap<ConnId, watch::Receiver<()>>> {
    OPEN.lock().unwrap_or_else(|e| e.into_inner())
}

/// One open connection, counted until this is dropped: a socket's
/// ([`Tracked`]) or a WebRTC peer's (held by its `PeerActor`).
#[derive(Debug)]
pub struct Connection {
    id: ConnId,
    _open: watch::Sender<()>,
}

impl Connection {
    /// A new open connection.
    pub fn open() -> Self {
        let id = ConnId(NEXT.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = watch::channel(());
        open().insert(id, rx);
        Self { id, _open: tx }
    }

    /// Its id.
    pub fn id(&self) -> ConnId {
        self.id
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        open().remove(&self.id);
    }
}

/// A socket, counted among the open connections until it is dropped.
pub struct Tracked<IO> {
    io: IO,
    connection: Connection,
}

impl<IO> Tracked<IO> {
    /// Tracks `io` as a new connection.
    pub fn new(io: IO) -> Self {
        Self {
            io,
            connection: Connection::open(),
        }
    }
}

/// A tracked connection's connect info: the socket's, and the id.
#[derive(Debug, Clone)]
pub struct TrackedInfo<I> {
    /// What the socket itself says (peer address, credentials).
    pub inner: I,
    /// The connection.
    pub id: ConnId,
}

impl<IO: Connected> Connected for Tracked<IO> {
    type ConnectInfo = TrackedInfo<IO::ConnectInfo>;

    fn connect_info(&self) -> Self::ConnectInfo {
        TrackedInfo {
            inner: self.io.connect_info(),
            id: self.connection.id,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Tracked<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Tracked<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// A call that came over a WebRTC peer connection, as the peer's data
/// channel server marks it.
#[derive(Debug, Clone)]
pub struct WebRtcPeer {
    /// `webrtc:<the signaling caller's address>`.
    pub peer: Arc<str>,
    /// The call's uuid: one per peer connection.
    pub call: Arc<str>,
    /// The peer connection among the process's connections: closing it
    /// ends what it owns (a remote control's motion).
    pub connection: ConnId,
}

/// Resolves when connection `id` has closed (at once if it is not open).
pub fn closed(id: ConnId) -> impl std::future::Future<Output = ()> + Send + 'static {
    let rx = open().get(&id).cloned();
    async move {
        if let Some(mut rx) = rx {
            while rx.changed().await.is_ok() {}
        }
    }
}

/// Whether connection `id` is still open.
pub fn is_open(id: ConnId) -> bool {
    open().contains_key(&id)
}

/// The connection a request came on, if it came on a tracked socket.
pub fn connection_of(extensions: &http::Extensions) -> Option<ConnId> {
    extensions
        .get::<TrackedInfo<TcpConnectInfo>>()
        .map(|i| i.id)
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TrackedInfo<TcpConnectInfo>>>()
                .map(|i| i.get_ref().id)
        })
        .or_else(|| {
            extensions
                .get::<TrackedInfo<UdsConnectInfo>>()
                .map(|i| i.id)
        })
        .or_else(|| extensions.get::<WebRtcPeer>().map(|p| p.connection))
}

/// The TCP connect info of a request, plain or under TLS.
pub fn tcp_info(extensions: &http::Extensions) -> Option<&TcpConnectInfo> {
    extensions
        .get::<TrackedInfo<TcpConnectInfo>>()
        .map(|i| &i.inner)
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TrackedInfo<TcpConnectInfo>>>()
                .map(|i| &i.get_ref().inner)
        })
}

/// The Unix-socket connect info of a request.
pub fn uds_info(extensions: &http::Extensions) -> Option<&UdsConnectInfo> {
    extensions
        .get::<TrackedInfo<UdsConnectInfo>>()
        .map(|i| &i.inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closing_wakes_the_waiters() {
        let (a, _b) = tokio::io::duplex(64);
        let t = Tracked::new(a);
        let id = t.connection.id();
        assert!(open().contains_key(&id));
        let waiter = tokio::spawn(closed(id));
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(t);
        tokio::time::timeout(std::time::Duration::from_secs(1), waiter)
            .await
            .expect("woken")
            .expect("no panic");
        assert!(!open().contains_key(&id));
        closed(id).await;
    }
}
