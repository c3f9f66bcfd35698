//! The team stack: what happens to a call between the surface and the provider.
//!
//! In order, for every surface (each step answers in the caller's own error shape):
//! 1. **auth** (`auth.rs`) — reads the surface's native credential header (`Authorization:
//!    Bearer`, `x-api-key`, `x-goog-api-key`, `?key=`, `api-key`); writes the `Principal` (key
//!    name, team, allowed model globs, limits, budget). 401 unknown key, 403 model not allowed.
//! 2. **budget** (`budget.rs`) — reads the key's and its team's spend of the current UTC day and
//!    month (in process, or Redis for several replicas); 429 naming the budget once spent. Spend
//!    is charged from the `CallRecord`'s cost when each call ends.
//! 3. **rate limit** (`limits.rs`) — reads the principal and the alias; checks and charges RPM and
//!    an estimate of TPM per key and per alias (in process, or in Redis for several replicas);
//!    429 with Retry-After. The estimate is reconciled with real usage when the call ends.
//! 4. **cache** (`cache.rs`) — reads the normalized request and the team; a hit answers (whole or
//!    replayed as a stream in the caller's dialect) with `x-amux-cache: hit`; a miss lets the call
//!    through and stores its successful answer.
//! 5. **router** (`router.rs`) — reads the alias; orders its deployments
//!    (weighted, least-busy, lowest-latency), skips those in cooldown or over their own RPM/TPM,
//!    retries with backoff and jitter honouring Retry-After, falls back to other aliases and to a
//!    larger-context alias, and lets streams fall back until their first byte; writes the
//!    deployment's stats (in flight, latency EWMA, failures, cooldown).
//! 6. **provider** (`gateway::transport`, `gateway::attempt`, `gateway::upstream`) — same-dialect bytes or translation,
//!    the HTTP call, the answer; writes the `CallRecord` (usage, outcome, retries, fallbacks).
//!
//! A call refused by steps 1-3 (or earlier, for a malformed request or an unknown model) emits a
//! `usage::Rejection` through `gateway::reject`; a call past them emits one `CallRecord`, priced
//! by `telemetry::prices`, seen by logs, metrics and budgets.
//!
//! Steps 2-6 are `tower::Layer`s over a typed call ([`service::ModelCall`]: dialect, model,
//! alias, principal, body, and what each layer adds for those below), composed in
//! [`model_stack`] in this order with `tower::ServiceBuilder`. Each layer's service is a plain
//! struct around the next one and the traits are `async fn`s, so the composition is static: a
//! call goes down the layers once, as one future, with no boxing or allocation per layer, and its
//! answer comes back up once. Auth (step 1) runs in the surfaces, which know their credential
//! header; `gateway::call` builds the `ModelCall` (model, stream flag, alias, the key's right to
//! it, and the body read either as its top-level members or, for a call that only translates,
//! as its IR) and calls the stack. Load shedding and timeouts of whole connections are HTTP concerns and
//! stay on the axum router.

/// Declares a stack layer (a `tower::Layer`) and the service it wraps the next one in.
macro_rules! layer {
    ($(#[$meta:meta])* $layer:ident => $service:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default)]
        pub struct $layer;

        #[doc = concat!("The service of [`", stringify!($layer), "`] around the next one.")]
        pub struct $service<S>(S);

        impl<S> tower::Layer<S> for $layer {
            type Service = $service<S>;
            fn layer(&self, inner: S) -> Self::Service {
                $service(inner)
            }
        }
    };
}

pub mod auth;
pub mod budget;
pub mod cache;
pub mod limits;
pub mod redis;
pub mod router;
pub mod service;
pub mod usage;

use budget::BudgetLayer;
use cache::CacheLayer;
use limits::RateLimitLayer;
use router::RouterLayer;
use service::ModelService;
use tower::ServiceBuilder;
use usage::UsageLayer;

use crate::gateway::Transport;

/// The model stack, outermost layer first:
///
/// | layer | reads | writes / answers |
/// |---|---|---|
/// | [`BudgetLayer`] | principal (key, team) | 429 when a budget is spent |
/// | [`RateLimitLayer`] | principal, alias, body size | 429 + Retry-After; `call.charge` |
/// | [`UsageLayer`] | principal, model, stream, `charge` | `call.guard` (the `CallRecord`), end hooks |
/// | [`CacheLayer`] | alias, headers, IR, team | a cached answer (`x-amux-cache: hit`), or `call.store` |
/// | [`RouterLayer`] | alias, deployments, router stats | retries, cooldowns, fallbacks; the error when all fail |
/// | [`Transport`] | deployment, body or IR, `store` | the upstream call; the answer (bytes or translated) |
pub fn model_stack() -> impl ModelService {
    ServiceBuilder::new()
        .layer(BudgetLayer)
        .layer(RateLimitLayer)
        .layer(UsageLayer)
        .layer(CacheLayer)
        .layer(RouterLayer)
        .service(Transport)
}
