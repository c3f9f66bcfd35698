//! Budgets: USD per UTC day and month, per key and per team. Every priced call is charged to its
//! key and its team when it ends (also for disconnected clients); a call is refused with a 429
//! in the caller's shape, before anything is sent upstream, once the key's or the team's spend of
//! the current day or month has reached its budget.
//!
//! Spend lives in Redis when `redis` is configured (`INCRBYFLOAT` per key, team and period, read
//! with one `MGET`), so replicas share it; in this process otherwise. Spend is checked before a
//! call and charged after it, so calls already in flight when a budget runs out can overshoot it
//! by their own cost. Calls whose price is unknown are not charged (and are counted as such).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::stack::redis::{Redis, RedisDown};
use serde_json::{Value, json};

use crate::config::{BudgetConfig, FailMode, TeamConfig};
use crate::ir::{ApiError, ErrorKind};
use crate::stack::auth::Keys;
use crate::stack::service::{ModelCall, ModelService};
use crate::telemetry::usage_log::digits;
use axum::body::Body;
use http::Response;

/// A budget period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Month,
}

impl Period {
    pub fn label(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
        }
    }

    fn limit(self, b: &BudgetConfig) -> Option<f64> {
        match self {
            Period::Day => b.daily_usd,
            Period::Month => b.monthly_usd,
        }
    }
}

/// `(year, month, day)` of a day number since 1970-01-01 (proleptic Gregorian, UTC).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Day number since 1970-01-01 of a date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The current period's id (`2026-11-22`, `2026-11`) and the seconds until it ends.
fn period_now(p: Period, now_secs: i64) -> (String, i64) {
    let days = now_secs.div_euclid(86_400);
    let (y, m, d) = civil(days);
    // Written digit by digit, not by `format!`: a budget check and its charge run per call.
    let mut id = String::with_capacity(10);
    digits(&mut id, u64::try_from(y).unwrap_or(0), 4);
    id.push('-');
    digits(&mut id, u64::from(m), 2);
    let end_day = match p {
        Period::Day => {
            id.push('-');
            digits(&mut id, u64::from(d), 2);
            days + 1
        }
        Period::Month => {
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            days_from_civil(ny, nm, 1)
        }
    };
    (id, end_day * 86_400 - now_secs)
}

/// Dollars with as many decimals as small amounts need: `5.00`, `0.003`, `0.0042`.
fn usd(x: f64) -> String {
    if x.abs() >= 100.0 {
        return format!("{x:.2}");
    }
    let s = format!("{x:.6}");
    let t = s.trim_end_matches('0');
    match t.split_once('.') {
        Some((_, dec)) if dec.len() < 2 => format!("{x:.2}"),
        _ => t.to_string(),
    }
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Who a spend belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Key,
    Team,
}

impl Scope {
    pub fn label(self) -> &'static str {
        match self {
            Scope::Key => "key",
            Scope::Team => "team",
        }
    }
}

/// A spend after a charge.
#[derive(Debug, Clone, PartialEq)]
pub struct Spent {
    pub scope: Scope,
    pub name: String,
    pub period: Period,
    pub usd: f64,
    pub limit: Option<f64>,
}

/// Where spend lives; shared by the budgets of successive config snapshots.
#[derive(Clone)]
enum Store {
    Memory(Arc<Mutex<MemorySpend>>),
    Redis(Redis),
}

/// This process's spend by slot, and the day (since 1970) it was last pruned on: slots of
/// periods that have ended are dropped once per day, not scanned on every call.
#[derive(Default)]
struct MemorySpend {
    day: i64,
    map: HashMap<String, f64>,
}

/// Budgets and spend.
pub struct Budgets {
    keys: HashMap<String, BudgetConfig>,
    teams: HashMap<String, BudgetConfig>,
    /// Every key with its team, and every team, for the report.
    known_keys: BTreeMap<String, Option<String>>,
    known_teams: BTreeSet<String>,
    store: Store,
    on_failure: FailMode,
    /// Record the spend of keys and teams without a budget too (for the admin report).
    track_all: bool,
}

const PERIODS: [Period; 2] = [Period::Day, Period::Month];

/// The store key of a spend: `spend:{scope}:{name}:{period id}`.
fn slot(scope: Scope, name: &str, period_id: &str) -> String {
    let label = scope.label();
    let mut s = String::with_capacity(8 + label.len() + name.len() + period_id.len());
    for part in ["spend:", label, ":", name, ":", period_id] {
        s.push_str(part);
    }
    s
}

impl Budgets {
    /// From the keys (their `budget`) and `teams`; `redis` shares spend between replicas.
    pub fn new(
        keys: &Keys,
        teams: &BTreeMap<String, TeamConfig>,
        redis: Option<Redis>,
        on_failure: FailMode,
    ) -> Budgets {
        let store = match redis {
            Some(r) => Store::Redis(r),
            None => Store::Memory(Arc::new(Mutex::new(MemorySpend::default()))),
        };
        Budgets::with_store(keys, teams, store, on_failure)
    }

    fn with_store(keys: &Keys, teams: &BTreeMap<String, TeamConfig>, store: Store, on_failure: FailMode) -> Budgets {
        let mut known_keys = BTreeMap::new();
        let mut known_teams: BTreeSet<String> = teams.keys().cloned().collect();
        let mut key_budgets = HashMap::new();
        for p in keys.principals() {
            known_keys.insert(p.name.clone(), p.team.clone());
            known_teams.extend(p.team.clone());
            if let Some(b) = p.budget {
                key_budgets.insert(p.name.clone(), b);
            }
        }
        let teams = teams.iter().filter_map(|(n, t)| t.budget.map(|b| (n.clone(), b))).collect();
        Budgets { keys: key_budgets, teams, known_keys, known_teams, store, on_failure, track_all: true }
    }

    /// Budgets of a reloaded config over the same spend (this process's or Redis's).
    pub fn reconfigured(&self, keys: &Keys, teams: &BTreeMap<String, TeamConfig>) -> Budgets {
        Budgets::with_store(keys, teams, self.store.clone(), self.on_failure)
    }

    /// Whether spend without a budget is recorded too (it is only read by `GET /admin/spend`).
    pub fn track_all(mut self, on: bool) -> Budgets {
        self.track_all = on;
        self
    }

    /// The budgets that apply to a call of `key` in `team`.
    fn applicable<'a>(&self, key: Option<&'a str>, team: Option<&'a str>) -> Vec<(Scope, &'a str, BudgetConfig)> {
        let k = key.and_then(|k| self.keys.get(k).map(|b| (Scope::Key, k, *b)));
        let t = team.and_then(|t| self.teams.get(t).map(|b| (Scope::Team, t, *b)));
        k.into_iter().chain(t).collect()
    }

    /// Current spend of these slots (0 for missing ones).
    async fn read(&self, slots: &[&str]) -> Result<Vec<f64>, RedisDown> {
        match &self.store {
            Store::Memory(m) => {
                let m = m.lock().unwrap_or_else(|p| p.into_inner());
                Ok(slots.iter().map(|s| m.map.get(*s).copied().unwrap_or(0.0)).collect())
            }
            Store::Redis(r) => {
                let keys: Vec<String> = slots.iter().map(|s| format!("{}{s}", r.prefix())).collect();
                let mut conn = r.conn();
                let vals: Vec<Option<f64>> = r.run(redis::cmd("MGET").arg(&keys).query_async(&mut conn)).await?;
                Ok(vals.into_iter().map(|v| v.unwrap_or(0.0)).collect())
            }
        }
    }

    /// Refuses a call whose key or team has spent its budget for the current day or month.
    pub async fn check(&self, key: Option<&str>, team: Option<&str>) -> Result<(), ApiError> {
        let budgets = self.applicable(key, team);
        if budgets.is_empty() {
            return Ok(());
        }
        let now = now_secs();
        let mut wanted = Vec::new();
        for (scope, name, b) in &budgets {
            for p in PERIODS {
                if let Some(limit) = p.limit(b) {
                    let (id, left) = period_now(p, now);
                    wanted.push((slot(*scope, name, &id), *scope, *name, p, limit, left));
                }
            }
        }
        let slots: Vec<&str> = wanted.iter().map(|w| w.0.as_str()).collect();
        let spent = match self.read(&slots).await {
            Ok(s) => s,
            Err(e) => {
                if !matches!(e, RedisDown::Open) {
                    tracing::warn!(error = %e, mode = ?self.on_failure, "budgets cannot reach redis");
                }
                return match self.on_failure {
                    FailMode::Open => Ok(()),
                    FailMode::Closed => Err(ApiError::new(
                        ErrorKind::Unavailable,
                        "budgets unavailable (redis unreachable, fail-closed)",
                    )),
                };
            }
        };
        for ((_, scope, name, period, limit, left), spent) in wanted.iter().zip(spent) {
            if spent >= *limit {
                let adj = if *period == Period::Day { "daily" } else { "monthly" };
                let mut e = ApiError::new(
                    ErrorKind::RateLimit,
                    format!(
                        "budget exceeded: {} \"{name}\" has spent ${} of its ${} {adj} budget; \
                         it resets at the start of the next UTC {} (in {left}s)",
                        scope.label(),
                        usd(spent),
                        usd(*limit),
                        period.label()
                    ),
                );
                e.retry_after = Some((*left).max(1).to_string());
                return Err(e);
            }
        }
        Ok(())
    }

    /// Whether a charge of `key` in `team` records anything (a budget, or every spend when the
    /// admin report is on).
    pub fn tracks(&self, key: Option<&str>, team: Option<&str>) -> bool {
        [(Scope::Key, key), (Scope::Team, team)]
            .into_iter()
            .any(|(scope, name)| name.is_some_and(|n| self.track_all || self.budget_of(scope, n).is_some()))
    }

    /// The budget of key or team `name`, if it has one.
    fn budget_of(&self, scope: Scope, name: &str) -> Option<&BudgetConfig> {
        match scope {
            Scope::Key => self.keys.get(name),
            Scope::Team => self.teams.get(name),
        }
    }

    /// Whether spend lives in this process (a charge then never waits).
    pub fn in_memory(&self) -> bool {
        matches!(self.store, Store::Memory(_))
    }

    /// Adds `usd` to the key's and the team's spend of the current day and month; returns the
    /// new totals of those that have a budget.
    pub async fn charge(&self, key: Option<&str>, team: Option<&str>, usd: f64) -> Vec<Spent> {
        self.charge_at(key, team, usd, now_secs()).await
    }

    /// [`Budgets::charge`] at `now` (seconds since 1970).
    async fn charge_at(&self, key: Option<&str>, team: Option<&str>, usd: f64, now: i64) -> Vec<Spent> {
        if usd <= 0.0 || !usd.is_finite() {
            return Vec::new();
        }
        let mut targets = Vec::new();
        for (scope, name) in [(Scope::Key, key), (Scope::Team, team)] {
            let Some(name) = name else { continue };
            let budget = self.budget_of(scope, name);
            if budget.is_none() && !self.track_all {
                continue;
            }
            for p in PERIODS {
                let (id, left) = period_now(p, now);
                targets.push((slot(scope, name, &id), scope, name, p, budget.and_then(|b| p.limit(b)), left));
            }
        }
        if targets.is_empty() {
            return Vec::new();
        }
        let totals: Vec<f64> = match &self.store {
            Store::Memory(m) => {
                let mut m = m.lock().unwrap_or_else(|p| p.into_inner());
                let day = now.div_euclid(86_400);
                if m.day != day {
                    let current: Vec<String> = PERIODS.iter().map(|p| format!(":{}", period_now(*p, now).0)).collect();
                    m.map.retain(|k, _| current.iter().any(|id| k.ends_with(id.as_str())));
                    m.day = day;
                }
                targets
                    .iter()
                    .map(|t| match m.map.get_mut(&t.0) {
                        // Found by `&str`: the slot's key is copied only the first time.
                        Some(v) => {
                            *v += usd;
                            *v
                        }
                        None => {
                            m.map.insert(t.0.clone(), usd);
                            usd
                        }
                    })
                    .collect()
            }
            Store::Redis(r) => {
                let mut pipe = redis::pipe();
                for t in &targets {
                    let k = format!("{}{}", r.prefix(), t.0);
                    // The slot outlives its period by a day so the report can still show it.
                    pipe.cmd("INCRBYFLOAT").arg(&k).arg(usd).cmd("EXPIRE").arg(&k).arg(t.5 + 86_400).ignore();
                }
                let mut conn = r.conn();
                match r.run(pipe.query_async::<Vec<f64>>(&mut conn)).await {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(error = %e, usd, "budgets could not record spend in redis");
                        return Vec::new();
                    }
                }
            }
        };
        targets
            .into_iter()
            .zip(totals)
            .filter(|(t, _)| t.4.is_some())
            .map(|(t, usd)| Spent { scope: t.1, name: t.2.to_string(), period: t.3, usd, limit: t.4 })
            .collect()
    }

    /// Spend and budgets of every key and team in the current day and month (`GET /admin/spend`).
    pub async fn report(&self) -> Result<Value, RedisDown> {
        let now = now_secs();
        let ids: Vec<String> = PERIODS.iter().map(|p| period_now(*p, now).0).collect();
        let mut entries: Vec<(Scope, &str, Option<&BudgetConfig>)> = Vec::new();
        entries.extend(self.known_keys.keys().map(|k| (Scope::Key, k.as_str(), self.keys.get(k))));
        entries.extend(self.known_teams.iter().map(|t| (Scope::Team, t.as_str(), self.teams.get(t))));
        let slots: Vec<String> =
            entries.iter().flat_map(|(s, n, _)| ids.iter().map(move |id| slot(*s, n, id))).collect();
        let slots: Vec<&str> = slots.iter().map(String::as_str).collect();
        let spent = if slots.is_empty() { Vec::new() } else { self.read(&slots).await? };
        let mut keys = Vec::new();
        let mut teams = Vec::new();
        for (i, (scope, name, budget)) in entries.iter().enumerate() {
            let (day, month) = (spent[2 * i], spent[2 * i + 1]);
            let mut v = json!({
                "name": name,
                "day": {"period": ids[0], "spend_usd": day, "budget_usd": budget.and_then(|b| b.daily_usd)},
                "month": {"period": ids[1], "spend_usd": month, "budget_usd": budget.and_then(|b| b.monthly_usd)},
            });
            match scope {
                Scope::Key => {
                    v["team"] = json!(self.known_keys.get(*name).cloned().flatten());
                    keys.push(v);
                }
                Scope::Team => teams.push(v),
            }
        }
        Ok(json!({"keys": keys, "teams": teams}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_amounts() {
        assert_eq!(usd(5.0), "5.00");
        assert_eq!(usd(0.003), "0.003");
        assert_eq!(usd(0.0042000000001), "0.0042");
        assert_eq!(usd(2.1), "2.10");
        assert_eq!(usd(1234.5), "1234.50");
    }

    #[test]
    fn calendar_periods_in_utc() {
        // 2026-11-22T10:00:00Z
        let t = days_from_civil(2026, 11, 22) * 86_400 + 36_000;
        assert_eq!(civil(t / 86_400), (2026, 11, 22));
        assert_eq!(period_now(Period::Day, t), ("2026-11-22".to_string(), 14 * 3600));
        let (id, left) = period_now(Period::Month, t);
        assert_eq!((id.as_str(), left), ("2026-11", 8 * 86_400 + 14 * 3600));
        let dec = days_from_civil(2024, 12, 31) * 86_400;
        assert_eq!(period_now(Period::Month, dec), ("2024-12".to_string(), 86_400));
        assert_eq!(civil(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(civil(0), (1970, 1, 1));
    }

    fn budgets(key: Option<BudgetConfig>, team: Option<BudgetConfig>) -> Budgets {
        let kc: crate::config::KeyConfig = serde_json::from_value(json!({
            "name": "alice", "team": "red", "key_sha256": crate::stack::auth::hash_key("k"),
        }))
        .unwrap();
        let kc = crate::config::KeyConfig { budget: key, ..kc };
        let keys = Keys::from_config(&[kc], None, &|_| None).unwrap();
        let teams = BTreeMap::from([("red".to_string(), TeamConfig { budget: team })]);
        Budgets::new(&keys, &teams, None, FailMode::Open)
    }

    #[tokio::test]
    async fn key_and_team_budgets_refuse_once_spent() {
        let b = budgets(Some(BudgetConfig { daily_usd: Some(1.0), monthly_usd: None }), None);
        b.check(Some("alice"), Some("red")).await.unwrap();
        let spent = b.charge(Some("alice"), Some("red"), 0.6).await;
        assert_eq!(spent.len(), 1, "only the key's daily budget is reported: {spent:?}");
        b.check(Some("alice"), Some("red")).await.unwrap();
        b.charge(Some("alice"), Some("red"), 0.4).await;
        let e = b.check(Some("alice"), Some("red")).await.unwrap_err();
        assert_eq!(e.status, 429);
        assert!(
            e.message.starts_with("budget exceeded: key \"alice\" has spent $1.00 of its $1.00 daily"),
            "{}",
            e.message
        );
        assert!(e.retry_after.is_some());
        let team = budgets(None, Some(BudgetConfig { daily_usd: None, monthly_usd: Some(0.5) }));
        team.charge(Some("alice"), Some("red"), 0.5).await;
        assert!(team.check(Some("alice"), Some("red")).await.unwrap_err().message.contains("team \"red\""));
        assert!(team.check(Some("bob"), None).await.is_ok());
    }

    #[tokio::test]
    async fn spend_of_ended_periods_is_dropped_when_the_day_changes() {
        let b = budgets(Some(BudgetConfig { daily_usd: Some(1.0), monthly_usd: Some(9.0) }), None);
        let slots = |b: &Budgets| match &b.store {
            Store::Memory(m) => m.lock().unwrap().map.keys().cloned().collect::<BTreeSet<String>>(),
            Store::Redis(_) => unreachable!(),
        };
        let day = 20_000 * 86_400; // 2024-10-04
        b.charge_at(Some("alice"), Some("red"), 0.5, day).await;
        b.charge_at(Some("alice"), Some("red"), 0.25, day + 60).await;
        let first = slots(&b);
        assert_eq!(first.len(), 4, "key and team, day and month: {first:?}");
        // The next day: yesterday's slots go, this month's stay and keep adding up.
        let spent = b.charge_at(Some("alice"), None, 0.5, day + 86_400).await;
        let second = slots(&b);
        assert!(!second.iter().any(|s| s.ends_with("2024-10-04")), "{second:?}");
        assert!(second.contains("spend:key:alice:2024-10") && second.contains("spend:team:red:2024-10"), "{second:?}");
        let month = spent.iter().find(|s| s.period == Period::Month).unwrap();
        assert!((month.usd - 1.25).abs() < 1e-9, "{spent:?}");
    }

    #[test]
    fn session_budget_refuses_once_reached_and_counts_unpriced_calls() {
        let b = SessionBudget::new(0.01);
        b.check().unwrap();
        b.charge(Some(0.004));
        b.charge(None);
        b.check().unwrap();
        b.charge(Some(0.006));
        let e = b.check().unwrap_err();
        assert_eq!(e.status, 403);
        assert!(
            e.message.starts_with("budget exceeded: this amux session has spent $0.01 of its $0.01"),
            "{}",
            e.message
        );
        let r = b.report();
        assert_eq!((r.refused, r.unpriced_calls, r.reached), (1, 1, true));
        assert!((r.spent_usd - 0.01).abs() < 1e-12);
    }

    #[tokio::test]
    async fn report_lists_every_key_and_team() {
        let b = budgets(None, Some(BudgetConfig { daily_usd: Some(2.0), monthly_usd: None }));
        b.charge(Some("alice"), Some("red"), 0.25).await;
        let r = b.report().await.unwrap();
        assert_eq!(r["keys"][0]["name"], "alice");
        assert_eq!(r["keys"][0]["team"], "red");
        assert_eq!(r["keys"][0]["day"]["spend_usd"], 0.25);
        assert_eq!(r["teams"][0]["month"]["spend_usd"], 0.25);
        assert_eq!(r["teams"][0]["day"]["budget_usd"], 2.0);
    }
}

/// A cap on what one session may spend in USD (`amux launch --max-budget-usd`): every priced
/// call is charged when it ends; once the spend reaches the cap, further calls are refused with a
/// 403 (a permission error: harnesses retry 429s, and waiting would not help). Calls whose price
/// is unknown are not charged, and are counted.
#[derive(Debug)]
pub struct SessionBudget {
    limit: f64,
    state: Mutex<SessionSpend>,
}

#[derive(Debug, Default, Clone, Copy)]
struct SessionSpend {
    spent: f64,
    refused: u64,
    unpriced: u64,
}

/// What a session budget saw.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SessionBudgetReport {
    pub limit_usd: f64,
    pub spent_usd: f64,
    /// Calls refused because the budget was reached.
    pub refused: u64,
    /// Calls that ended without a known price (not charged).
    pub unpriced_calls: u64,
    pub reached: bool,
}

impl SessionBudget {
    pub fn new(limit_usd: f64) -> SessionBudget {
        SessionBudget { limit: limit_usd, state: Mutex::new(SessionSpend::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SessionSpend> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses once the spend has reached the limit.
    pub fn check(&self) -> Result<(), ApiError> {
        let mut s = self.lock();
        if s.spent >= self.limit {
            s.refused += 1;
            return Err(ApiError::new(
                ErrorKind::Permission,
                format!(
                    "budget exceeded: this amux session has spent ${} of its ${} budget \
                     (amux launch --max-budget-usd); no further model calls are answered",
                    usd(s.spent),
                    usd(self.limit)
                ),
            ));
        }
        Ok(())
    }

    /// Charges a finished call.
    pub fn charge(&self, cost: Option<f64>) {
        let mut s = self.lock();
        match cost {
            Some(c) if c.is_finite() && c > 0.0 => s.spent += c,
            Some(_) => {}
            None => s.unpriced += 1,
        }
    }

    pub fn report(&self) -> SessionBudgetReport {
        let s = *self.lock();
        SessionBudgetReport {
            limit_usd: self.limit,
            spent_usd: s.spent,
            refused: s.refused,
            unpriced_calls: s.unpriced,
            reached: s.spent >= self.limit,
        }
    }
}

impl crate::usage::UsageSink for SessionBudget {
    fn record(&self, rec: &crate::usage::CallRecord) {
        self.charge(rec.cost);
    }
}

layer! {
    /// Refuses a call whose session, key or team budget is spent (403 for the session, 429 for
    /// key and team), before anything is charged.
    BudgetLayer => BudgetService
}

impl<S: ModelService> ModelService for BudgetService<S> {
    async fn call<'a, 'c: 'a>(&'a self, call: &'a mut ModelCall<'c>) -> Response<Body> {
        let p = call.inbound.principal.as_deref();
        let (key, team) = (p.map(|p| p.name.as_str()), p.and_then(|p| p.team.as_deref()));
        if let Some(session) = &call.state.obs.session_budget
            && let Err(e) = session.check()
        {
            return call.refuse(&e, Some("budget"));
        }
        if let Err(e) = call.state.obs.budgets.check(key, team).await {
            let kind = (e.kind == ErrorKind::RateLimit).then_some("budget");
            return call.refuse(&e, kind);
        }
        self.0.call(call).await
    }
}
