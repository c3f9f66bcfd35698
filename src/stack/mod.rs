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
//! 5. **router** (`router.rs` + `gateway::call`) — reads the alias; orders its deployments
//!    (weighted, least-busy, lowest-latency), skips those in cooldown or over their own RPM/TPM,
//!    retries with backoff and jitter honouring Retry-After, falls back to other aliases and to a
//!    larger-context alias, and lets streams fall back until their first byte; writes the
//!    deployment's stats (in flight, latency EWMA, failures, cooldown).
//! 6. **provider** (`gateway::attempt`, `gateway::upstream`) — same-dialect bytes or translation,
//!    the HTTP call, the answer; writes the `CallRecord` (usage, outcome, retries, fallbacks).
//!
//! A call refused by steps 1-3 (or earlier, for a malformed request or an unknown model) emits a
//! `usage::Rejection` through `gateway::reject`; a call past them emits one `CallRecord`, priced
//! by `telemetry::prices`, seen by logs, metrics and budgets.
//!
//! The steps are plain async functions called in this order by `gateway::call`, rather than tower
//! layers: each needs the decoded call (model, alias, principal), which tower's request type would
//! have to carry in extensions; a straight sequence keeps the order visible here and in one place.

pub mod auth;
pub mod budget;
pub mod cache;
pub mod limits;
pub mod router;
