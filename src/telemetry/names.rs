//! Every metric amux exports: its name, type, labels, help text and histogram buckets. The list
//! in docs/observability.md, the Grafana dashboard and the alert rules refer to these names (a
//! test checks that they reference nothing else).

use metrics::Unit;

/// Counter: calls, by `surface, key, team, model, provider, upstream_model, status_class`.
pub const REQUESTS: &str = "amux_requests_total";
/// Counter: failed calls, by `surface, key, team, model, provider, fault, kind`.
pub const ERRORS: &str = "amux_errors_total";
/// Counter: tokens, by `key, team, model, provider, upstream_model, kind`.
pub const TOKENS: &str = "amux_tokens_total";
/// Counter: cost in billionths of a USD, by `key, team, model, provider, upstream_model`.
pub const COST: &str = "amux_cost_nanodollars_total";
/// Counter: calls with tokens but no known price, by `model, provider, upstream_model`.
pub const COST_UNKNOWN: &str = "amux_cost_unknown_total";
/// Counter: attempts after the first, by `model, provider`.
pub const RETRIES: &str = "amux_retries_total";
/// Counter: moves to a fallback alias, by `model`.
pub const FALLBACKS: &str = "amux_fallbacks_total";
/// Counter: deployments put in cooldown, by `provider, upstream_model`.
pub const COOLDOWNS: &str = "amux_cooldowns_total";
pub const TRANSLATION_DROPPED: &str = "amux_translation_dropped_total";
/// Gauge: 1 while a deployment is in cooldown, by `provider, upstream_model`.
pub const DEPLOYMENT_COOLDOWN: &str = "amux_deployment_cooldown";
/// Gauge: 1 while Redis answers, 0 while amux does not ask it (`redis` configured only).
pub const REDIS_UP: &str = "amux_redis_up";
/// Counter: calls refused by a rate limit, by `key, team, model`.
pub const RATE_LIMITED: &str = "amux_rate_limit_rejections_total";
/// Counter: calls refused by a budget, by `key, team, model`.
pub const BUDGET_REJECTED: &str = "amux_budget_rejections_total";
/// Counter: response cache lookups, by `team, model, result` (`hit`, `miss`).
pub const CACHE: &str = "amux_cache_lookups_total";
/// Gauge: calls being handled, by `surface`.
pub const IN_FLIGHT: &str = "amux_requests_in_flight";
/// Gauge: streamed answers being sent, by `surface`.
pub const OPEN_STREAMS: &str = "amux_open_streams";
/// Histogram: whole call, by `surface, model, provider, stream`.
pub const DURATION: &str = "amux_request_duration_seconds";
/// Histogram: time to the first streamed byte, by `model, provider`.
pub const TTFT: &str = "amux_time_to_first_token_seconds";
/// Histogram: time per output token after the first, streamed calls, by `model, provider`.
pub const TPOT: &str = "amux_time_per_output_token_seconds";
/// Histogram: call time minus time waiting on the upstream, by `surface, path, stream`.
pub const OVERHEAD: &str = "amux_gateway_overhead_seconds";
/// Gauge: USD spent in the current period, by `scope, name, period`.
pub const BUDGET_SPEND: &str = "amux_budget_spend_usd";
/// Gauge: the budget of the current period in USD, by `scope, name, period`.
pub const BUDGET_LIMIT: &str = "amux_budget_limit_usd";
/// Gauge: 1, by `version`.
pub const BUILD_INFO: &str = "amux_build_info";
/// Gauge: 1 once SIGTERM arrived (readiness fails, calls drain).
pub const DRAINING: &str = "amux_draining";
/// Counter: calls and streams still running at the drain deadline, ended with an error.
pub const SHUTDOWN_CUT: &str = "amux_shutdown_cut_total";
/// Counter: requests, connections and streams that hit one of the gateway's limits, by `limit`
/// (one of [`LIMITS`]).
pub const LIMIT_HITS: &str = "amux_limit_hits_total";
/// Gauge: open client connections.
pub const CONNECTIONS: &str = "amux_connections_open";
/// Counter: config reloads, by `result` (`ok`, `rejected`).
pub const RELOADS: &str = "amux_config_reloads_total";
/// Gauge: 1 when the last config reload succeeded (or none was tried), 0 after a rejected one.
pub const RELOAD_OK: &str = "amux_config_last_reload_successful";

/// The `limit` label values of [`LIMIT_HITS`] (docs/operations.md says what each means).
pub const LIMITS: &[&str] = &[
    "header_read_timeout",
    "keep_alive_idle",
    "client_write_stall",
    "max_connections",
    "max_in_flight",
    "request_body_size",
    "request_body_timeout",
    "upstream_response_size",
    "stream_event_size",
    "stream_duration",
    "upstream_idle",
];

/// Histogram buckets (upper bounds, seconds).
pub const DURATION_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0];
pub const TTFT_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 60.0];
pub const TPOT_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5];
pub const OVERHEAD_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// Kind of a metric, for its description.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric with its kind, unit and help text.
pub const ALL: &[(&str, Kind, Option<Unit>, &str)] = &[
    (REQUESTS, Kind::Counter, None, "Model calls, including those refused before routing."),
    (
        ERRORS,
        Kind::Counter,
        None,
        "Failed model calls by fault domain (caller, policy, provider, gateway) and error kind.",
    ),
    (
        TOKENS,
        Kind::Counter,
        None,
        "Tokens by kind: input (uncached), output (reasoning included), cache_read, cache_write, reasoning.",
    ),
    (COST, Kind::Counter, None, "Cost from the price table in billionths of a US dollar (divide by 1e9 for USD)."),
    (COST_UNKNOWN, Kind::Counter, None, "Calls that used tokens of a model with no known price (not counted as cost)."),
    (RETRIES, Kind::Counter, None, "Upstream attempts after the first one of a call."),
    (FALLBACKS, Kind::Counter, None, "Moves to a fallback alias."),
    (COOLDOWNS, Kind::Counter, None, "Times a deployment was put in cooldown after repeated failures."),
    (
        TRANSLATION_DROPPED,
        Kind::Counter,
        None,
        "Advisory fields left out of translated calls, by field (path shape), caller and upstream dialect.",
    ),
    (DEPLOYMENT_COOLDOWN, Kind::Gauge, None, "1 while a deployment is in cooldown, else 0."),
    (
        REDIS_UP,
        Kind::Gauge,
        None,
        "1 while Redis answers; 0 while it is not asked (limits, budgets and the cache follow redis.on_failure).",
    ),
    (RATE_LIMITED, Kind::Counter, None, "Calls refused by a requests- or tokens-per-minute limit."),
    (BUDGET_REJECTED, Kind::Counter, None, "Calls refused because a key or team budget was spent."),
    (CACHE, Kind::Counter, None, "Response cache lookups by result (hit, miss)."),
    (IN_FLIGHT, Kind::Gauge, None, "Model calls being handled (streams included)."),
    (OPEN_STREAMS, Kind::Gauge, None, "Streamed answers being sent to callers."),
    (DURATION, Kind::Histogram, Some(Unit::Seconds), "Duration of model calls, to the last byte."),
    (TTFT, Kind::Histogram, Some(Unit::Seconds), "Time to the first byte of a streamed answer."),
    (TPOT, Kind::Histogram, Some(Unit::Seconds), "Time per output token after the first, streamed answers."),
    (OVERHEAD, Kind::Histogram, Some(Unit::Seconds), "Call duration minus the time spent waiting on the upstream."),
    (BUDGET_SPEND, Kind::Gauge, None, "USD spent in the current budget period (as last seen by this replica)."),
    (BUDGET_LIMIT, Kind::Gauge, None, "Budget of the current period in USD."),
    (BUILD_INFO, Kind::Gauge, None, "Always 1; the amux version as a label."),
    (DRAINING, Kind::Gauge, None, "1 once SIGTERM arrived: readiness fails and calls drain."),
    (SHUTDOWN_CUT, Kind::Counter, None, "Calls and streams still running at the drain deadline, ended with an error."),
    (
        LIMIT_HITS,
        Kind::Counter,
        None,
        "Requests, connections and streams that hit a limit (docs/operations.md), by limit.",
    ),
    (CONNECTIONS, Kind::Gauge, None, "Open client connections."),
    (RELOADS, Kind::Counter, None, "Config reloads by result (ok, rejected: the old config kept serving)."),
    (
        RELOAD_OK,
        Kind::Gauge,
        None,
        "1 when the last config reload succeeded or none was tried, 0 after a rejected one.",
    ),
];
