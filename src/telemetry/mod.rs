//! Observability and cost: the price table and the cost of a call, Prometheus metrics,
//! OpenTelemetry traces and the process's log subscriber. Budgets (a policy) are in
//! `stack::budget`; this module only feeds them.

pub mod metrics;
pub mod names;
pub mod otel;
pub mod prices;
pub mod series;
pub mod trace;
pub mod usage_log;

use std::sync::Arc;

use futures_util::FutureExt;

use crate::stack::budget::Budgets;
use crate::usage::{CallRecord, UsageSink};

/// Charges every priced call to its key's and team's budgets and updates the budget gauges.
pub struct BudgetSink {
    pub budgets: Arc<Budgets>,
    pub metrics: Arc<metrics::Metrics>,
}

impl UsageSink for BudgetSink {
    fn record(&self, rec: &CallRecord) {
        let Some(usd) = rec.cost.filter(|c| *c > 0.0) else { return };
        if !self.budgets.tracks(rec.key.as_deref(), rec.team.as_deref()) {
            return;
        }
        // In memory a charge never waits: it runs here, with no task per call.
        if self.budgets.in_memory()
            && let Some(spent) = self.budgets.charge(rec.key.as_deref(), rec.team.as_deref(), usd).now_or_never()
        {
            return gauges(&self.metrics, spent);
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        let (budgets, metrics) = (self.budgets.clone(), self.metrics.clone());
        let (key, team) = (rec.key.clone(), rec.team.clone());
        rt.spawn(async move { gauges(&metrics, budgets.charge(key.as_deref(), team.as_deref(), usd).await) });
    }
}

/// The budget gauges after a charge.
fn gauges(metrics: &metrics::Metrics, spent: Vec<crate::stack::budget::Spent>) {
    for s in spent {
        metrics.budget(s.scope.label(), &s.name, s.period.label(), s.usd, s.limit);
    }
}
