//! The floors under any gRPC call axle answers: bare servers, on one
//! thread as axle is, that answer every call with an empty gRPC message
//! and status 0 and do nothing else.
//!
//! - [`Floor::H2`] is the `h2` crate alone. Every Rust HTTP/2 server
//!   (hyper, tonic, actix-web) is built on it, so what it costs per call is
//!   what axle cannot go below without another HTTP/2 implementation.
//! - [`Floor::Hyper`] is hyper's HTTP/2 server over it, which tonic uses.
//! - [`Floor::Tonic`] is tonic's server, set up as axle's is (HTTP/1.1
//!   accepted for browsers, keepalive pings), with one layer that answers
//!   every call: what any call axle serves pays before axle's own code.
//!
//! A bench runs a floor in a child process, itself re-executed with
//! [`ROLE`] set, so that its CPU is measured alone, as axle's is.

use bytes::Bytes;
use h2::RecvStream;
use h2::server::SendResponse;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use std::convert::Infallible;
use std::process::{Child, Command};
use tokio::net::{TcpListener, TcpStream};

/// Set, to a [`Floor`]'s name, in the environment of the child that serves.
pub const ROLE: &str = "AXLE_BENCH_FLOOR";

/// Which bare server.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Floor {
    H2,
    Hyper,
    Tonic,
}

impl Floor {
    pub const ALL: [Floor; 3] = [Floor::H2, Floor::Hyper, Floor::Tonic];

    fn name(self) -> &'static str {
        match self {
            Floor::H2 => "h2",
            Floor::Hyper => "hyper",
            Floor::Tonic => "tonic",
        }
    }
}

/// In the child: serves the floor its [`ROLE`] names until killed.
pub fn serve(role: &std::ffi::OsStr) {
    let floor = Floor::ALL
        .into_iter()
        .find(|f| role == f.name())
        .expect("a floor's name");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        // The line `spawn_listening` waits for, as axle logs it.
        eprintln!("{floor:?} floor listening address={addr}");
        match floor {
            Floor::H2 => accept(listener, h2_connection).await,
            Floor::Hyper => accept(listener, hyper_connection).await,
            Floor::Tonic => tonic_floor(listener).await,
        }
    });
}

/// In the bench: `floor`, started; and its TCP address.
pub fn start(floor: Floor) -> (Child, String) {
    let mut cmd = Command::new(std::env::current_exe().expect("this bench's path"));
    cmd.env(ROLE, floor.name());
    super::spawn_listening(cmd, None)
}

/// Serves each connection `listener` accepts with `serve` (h2 and hyper
/// leave accepting to their caller).
async fn accept<F>(listener: TcpListener, serve: fn(TcpStream) -> F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        let (stream, _) = listener.accept().await.expect("accept");
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream));
    }
}

/// Answers every call, as the floor's one layer.
#[derive(Clone)]
struct Answer;

impl tower::Service<Request<tonic::body::Body>> for Answer {
    type Response = Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async {
            let _ = request.into_body().collect().await;
            Ok(Response::builder()
                .header(http::header::CONTENT_TYPE, "application/grpc")
                .body(tonic::body::Body::new(StreamBody::new(
                    futures::stream::iter(empty_reply()),
                )))
                .expect("static response"))
        })
    }
}

/// An empty gRPC message: a 5-byte frame header of length 0.
const EMPTY_MESSAGE: &[u8] = &[0; 5];

/// Status 0.
fn ok_trailers() -> HeaderMap {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    trailers
}

/// An empty message, then status 0, as a response body's frames.
fn empty_reply() -> [Result<Frame<Bytes>, Infallible>; 2] {
    [
        Ok(Frame::data(Bytes::from_static(EMPTY_MESSAGE))),
        Ok(Frame::trailers(ok_trailers())),
    ]
}

async fn tonic_floor(listener: TcpListener) {
    use tokio_stream::StreamExt;
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener).map(|s| {
        s.inspect(|s| {
            let _ = s.set_nodelay(true);
        })
    });
    // As axle's, with the benchmark's window of 2 s.
    let keepalive = std::time::Duration::from_secs(1);
    let _ = tonic::transport::Server::builder()
        .accept_http1(true)
        .http2_keepalive_interval(Some(keepalive))
        .http2_keepalive_timeout(Some(keepalive * 2))
        .layer(tower::layer::layer_fn(|_| Answer))
        .add_routes(tonic::service::Routes::default())
        .serve_with_incoming(incoming)
        .await;
}

async fn hyper_connection(stream: TcpStream) {
    let service = hyper::service::service_fn(|request: Request<hyper::body::Incoming>| async {
        let _ = request.into_body().collect().await;
        Response::builder()
            .header(http::header::CONTENT_TYPE, "application/grpc")
            .body(StreamBody::new(futures::stream::iter(empty_reply())))
    });
    let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
}

async fn h2_connection(stream: TcpStream) {
    let Ok(mut conn) = h2::server::handshake(stream).await else {
        return;
    };
    while let Some(Ok((request, respond))) = conn.accept().await {
        // As hyper does: one task per stream.
        tokio::spawn(answer(request, respond));
    }
}

async fn answer(request: Request<RecvStream>, mut respond: SendResponse<Bytes>) {
    let mut body = request.into_body();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let head = Response::builder()
        .header(http::header::CONTENT_TYPE, "application/grpc")
        .body(())
        .expect("static response");
    let Ok(mut send) = respond.send_response(head, false) else {
        return;
    };
    let _ = send.send_data(Bytes::from_static(EMPTY_MESSAGE), false);
    let _ = send.send_trailers(ok_trailers());
}
