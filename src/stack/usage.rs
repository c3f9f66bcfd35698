//! The usage layer: an admitted call gets its `CallRecord` here, emitted exactly once when the
//! call ends (even when the client goes away), and the hooks that run then: the trace span's
//! final attributes and the rate limiter's reconciliation of its token estimate.

use std::sync::Arc;

use axum::body::Body;
use http::Response;

use crate::gateway::AppState;
use crate::stack::limits::reconcile_on_end;
use crate::stack::service::{ModelCall, ModelService};
use crate::telemetry::trace;
use crate::usage::{CallGuard, CallRecord};

layer! {
    /// Gives an admitted call its usage record and the hooks that run when it ends.
    UsageLayer => UsageService
}

impl<S: ModelService> ModelService for UsageService<S> {
    async fn call<'a, 'c: 'a>(&'a self, call: &'a mut ModelCall<'c>) -> Response<Body> {
        let p = call.inbound.principal.as_deref();
        let (key, team) = (p.map(|p| p.name.clone()), p.and_then(|p| p.team.clone()));
        let record = CallRecord::new(call.inbound.dialect, key, team, call.model.clone(), call.stream);
        let mut guard = CallGuard::new(call.state.sinks.clone(), record, call.inbound.started);
        if let Some(g) = call.inbound.in_flight.take() {
            guard.hold(Box::new(g));
        }
        trace_on_end(&mut guard, call.state, call.span.clone());
        if let Some(charge) = call.charge.take() {
            reconcile_on_end(&mut guard, &call.state.limiter, charge);
        }
        call.guard = guard;
        self.0.call(call).await
    }
}

/// Sets the span's final attributes from the call's record when it ends.
fn trace_on_end(guard: &mut CallGuard, state: &Arc<AppState>, span: tracing::Span) {
    let state = state.clone();
    guard.on_end(Box::new(move |rec| {
        let kind = state.registry.providers.get(&rec.provider).map(|p| p.preset.name);
        trace::finish(&span, rec, kind);
    }));
}
