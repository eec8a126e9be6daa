//! `Front`, the hyper service of one connection: the door's decision for each request,
//! before the router. It takes the request's arrival from the connection's reads, its
//! class from its method, path and admission pass, and either answers from the door's prebuilt
//! refusals or hands the request to the router, with the connection's `Slot` in its
//! extensions (so authenticating it can count the connection against its student) and
//! its client's address (failed sign-ins are slowed per address).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use futures_util::future::{Either, Ready, ready};
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::service::{TowerToHyperService, TowerToHyperServiceFuture};

use super::sojourn::{self, Arrivals};
use super::{Class, Slot};
use crate::http::App;
use crate::http::failures::PeerAddr;

/// One connection's service.
pub(crate) struct Front {
    router: TowerToHyperService<Router>,
    app: Arc<App>,
    arrivals: Arc<Arrivals>,
    slot: Arc<Slot>,
    peer: PeerAddr,
}

impl Front {
    pub(crate) fn new(
        router: Router,
        app: Arc<App>,
        arrivals: Arc<Arrivals>,
        slot: Arc<Slot>,
        peer: SocketAddr,
    ) -> Front {
        Front {
            router: TowerToHyperService::new(router),
            app,
            arrivals,
            slot,
            peer: PeerAddr(peer),
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, TowerToHyperServiceFuture<Router, Request<Incoming>>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        let now_ns = sojourn::now_ns();
        let waited_us = sojourn::waited_us(self.arrivals.take(), now_ns);
        let pass_ok = || {
            let pass = request.headers().get(crate::http::line::PASS);
            pass.and_then(|p| p.to_str().ok())
                .is_some_and(|p| self.app.room.key().read(p, now_ns / 1_000_000_000).is_ok())
        };
        let class = Class::of(request.method(), request.uri().path(), pass_ok);
        let writes_here = self.app.node.is_primary();
        if let Some(refusal) = self.app.door.request(class, waited_us, now_ns, writes_here) {
            return Either::Left(ready(Ok(refusal)));
        }
        request.extensions_mut().insert(self.slot.clone());
        request.extensions_mut().insert(self.peer);
        Either::Right(self.router.call(request))
    }
}
