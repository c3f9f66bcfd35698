//! The typed call the model stack's layers take, and the two service traits they implement: a
//! whole call ([`ModelService`]: budget, rate limit, usage, cache, router) and one attempt at one
//! deployment ([`AttemptService`]: the transports the router calls). `stack::model_stack`
//! composes them; `gateway::call` builds the call from a surface's request.
//!
//! The traits are `async fn`s in traits, so the stack is composed statically: a call goes down
//! the layers as one future, with no boxing or allocation per layer.

use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use http::Response;

use crate::gateway::AppState;
use crate::gateway::attempt::Failure;
use crate::gateway::call::Inbound;
use crate::gateway::splice::TopLevel;
use crate::gateway::{error_response, respond_overhead};
use crate::ir::{self, ApiError};
use crate::providers::{Alias, Deployment};
use crate::stack::cache::Store;
use crate::stack::limits::Charge;
use crate::translate;
use crate::usage::CallGuard;

/// How a call's body was read before it went down the stack.
pub enum Read<'a> {
    /// Its top-level members (model and stream among them), checked as JSON.
    Top(TopLevel<'a>),
    /// Its IR, for a call every deployment of whose alias translates.
    Ir(Box<ir::Request>),
}

/// One model call on its way down the stack: what the surface decoded (dialect, model, stream,
/// principal, body) and the alias it resolved to, plus what layers add for the ones below.
pub struct ModelCall<'a> {
    pub state: &'a Arc<AppState>,
    pub inbound: Inbound<'a>,
    /// The body's top-level members, read on first need (the same-dialect path) when the call
    /// was not read that way first (see `gateway::call::handle`).
    top: Option<TopLevel<'a>>,
    /// The model as the caller named it.
    pub model: String,
    pub stream: bool,
    pub alias: Arc<Alias>,
    pub span: tracing::Span,
    /// Strict translation asked for by the request or the gateway (an alias may add it).
    pub strict: bool,
    /// The rate limiter's charge, reconciled when the call ends (rate limit -> usage).
    pub charge: Option<Charge>,
    /// The call's usage record (detached until the usage layer starts it).
    pub guard: CallGuard,
    /// Where a successful answer is cached (cache -> transport).
    pub store: Option<Store>,
    /// The IR, decoded on first need (cache key, translated attempts).
    ir: Option<ir::Request>,
}

impl<'a> ModelCall<'a> {
    /// A call read either way: its body's top-level members, or its IR (decoded first when
    /// every deployment of its alias translates); the other is read when a layer needs it.
    pub fn new(
        state: &'a Arc<AppState>,
        (inbound, read): (Inbound<'a>, Read<'a>),
        (model, stream): (String, bool),
        alias: Arc<Alias>,
        span: tracing::Span,
        strict: bool,
    ) -> Self {
        let (top, ir) = match read {
            Read::Top(t) => (Some(t), None),
            Read::Ir(r) => (None, Some(*r)),
        };
        ModelCall {
            state,
            inbound,
            top,
            model,
            stream,
            alias,
            span,
            strict,
            charge: None,
            guard: CallGuard::detached(),
            store: None,
            ir,
        }
    }

    /// The body's top-level members, read once; a body that is not a JSON object is a 400.
    pub fn top(&mut self) -> Result<&TopLevel<'a>, ApiError> {
        let top = match self.top.take() {
            Some(t) => t,
            None => TopLevel::parse(self.inbound.body)?,
        };
        Ok(self.top.insert(top))
    }

    /// The caller's request as IR, decoded once.
    pub fn ir(&mut self) -> Result<&ir::Request, ApiError> {
        let req = match self.ir.take() {
            Some(req) => req,
            None => {
                let mut req = translate::decode_request(self.inbound.dialect, self.inbound.body)?;
                // Surfaces that carry the model and the stream flag in the path (Gemini).
                req.stream = self.stream;
                if let Some(m) = &self.inbound.path_model {
                    req.model = m.clone();
                }
                req
            }
        };
        Ok(self.ir.insert(req))
    }

    /// Refuses the call before it is admitted (a `Rejection`, not a `CallRecord`).
    pub fn refuse(&self, err: &ApiError, kind: Option<&'static str>) -> Response<Body> {
        self.inbound.refuse(self.state, (Some(&self.model), Some(&self.span)), err, kind)
    }

    /// An error of an admitted call before any byte was sent: recorded, answered in the
    /// caller's shape.
    pub fn fail(&mut self, err: ApiError) -> Response<Body> {
        self.guard.set_error(err.status, err.kind.label());
        self.guard.mark_complete();
        let (started, upstream) = self.guard.timing();
        let mut resp = error_response(self.inbound.dialect, &err);
        respond_overhead(resp.headers_mut(), started.elapsed().saturating_sub(upstream));
        resp
    }
}

/// A stage of the model stack: answers a whole call in the caller's dialect.
pub trait ModelService: Sync {
    fn call<'a, 'c: 'a>(&'a self, call: &'a mut ModelCall<'c>) -> impl Future<Output = Response<Body>> + Send + 'a;
}

/// One attempt at one deployment of `alias` (the call's own or a fallback); the router decides
/// what a failure leads to.
pub trait AttemptService: Sync {
    fn attempt<'a, 'c: 'a>(
        &'a self,
        call: &'a mut ModelCall<'c>,
        alias: &'a Alias,
        deployment: &'a Arc<Deployment>,
    ) -> impl Future<Output = Result<Response<Body>, Failure>> + Send + 'a;
}
