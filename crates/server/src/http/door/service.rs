//! `Front`, the hyper service of one connection: it takes each request's arrival time
//! from the connection's reads, records the request's sojourn, and hands it to the
//! router.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::service::{TowerToHyperService, TowerToHyperServiceFuture};

use super::sojourn::{self, Arrivals};
use crate::http::App;

/// One connection's service.
pub struct Front {
    router: TowerToHyperService<Router>,
    app: Arc<App>,
    arrivals: Arc<Arrivals>,
}

impl Front {
    pub fn new(router: Router, app: Arc<App>, arrivals: Arc<Arrivals>) -> Front {
        Front {
            router: TowerToHyperService::new(router),
            app,
            arrivals,
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = TowerToHyperServiceFuture<Router, Request<Incoming>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let waited_us = sojourn::waited_us(self.arrivals.take(), sojourn::now_ns());
        self.app.metrics.sojourn(waited_us);
        self.router.call(request)
    }
}
