//! The authentication layer: in front of every service of a public
//! listener, it lets through Authenticate, and any other call only with a
//! valid `authorization: Bearer <token>`. The token's entity becomes the
//! call's session [`Owner`](crate::Owner).

use super::{AuthError, Authenticator};
use crate::Owner;
use futures::future::{Either, Ready, ready};
use http::{Request, Response};
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::body::Body;
use tower::{Layer, Service};

/// The one method a caller may use before it has a token.
pub const AUTHENTICATE: &str = "/proto.rpc.v1.AuthService/Authenticate";

/// Who a listener lets in.
#[derive(Clone)]
pub enum Gate {
    /// Anyone who can reach it, as the empty entity (no auth configured).
    Open,
    /// Callers with a valid token, as the token's entity.
    Tokens(Arc<Authenticator>),
    /// Modules, on the parent socket (mode 0600 in a 0700 directory).
    Modules,
    /// A WebRTC peer's calls: its caller passed the listener's gate at
    /// signaling, and each call already carries that caller's [`Owner`].
    Signaled,
}

/// Puts a [`Gate`] in front of a listener's services.
#[derive(Clone)]
pub struct AuthLayer(pub Gate);

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            gate: self.0.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around the others.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    gate: Gate,
}

impl<S> Service<Request<Body>> for AuthService<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<Response<Body>, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let auth = match &self.gate {
            Gate::Open | Gate::Signaled => return Either::Left(self.inner.call(req)),
            Gate::Modules => {
                req.extensions_mut().insert(Owner::Modules);
                return Either::Left(self.inner.call(req));
            }
            Gate::Tokens(auth) => auth,
        };
        if req.uri().path() == AUTHENTICATE {
            return Either::Left(self.inner.call(req));
        }
        let token = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match token.ok_or(AuthError::Missing).and_then(|t| auth.verify(t)) {
            Ok(owner) => {
                req.extensions_mut().insert(owner);
                Either::Left(self.inner.call(req))
            }
            Err(e) => Either::Right(ready(Ok(tonic::Status::from(e).into_http()))),
        }
    }
}
