//! The price table and the cost of a call. amux ships `prices.yaml` (USD per million tokens for
//! current models of every provider it knows, with the date it was checked); `prices:` in the
//! config adds to it or overrides it, and an alias or a deployment can set its own `price`.
//!
//! Lookup for a call answered by `provider`/`model` through alias `a`: the deployment's or the
//! alias's `price`; else the table under the provider's configured name, then under its preset
//! name (`anth` of kind anthropic uses `anthropic`), trying the model id as sent, without a
//! `models/` prefix, then without a date suffix (`-20250929`, `-2025-08-07`), then glob entries
//! (longest first). No match: the cost is unknown (counted as such, warned about once), never 0.

use std::collections::{BTreeMap, HashSet};

/// Looked up per call by `&str`: foldhash (already in the tree), not SipHash; the keys are the
/// operator's own config, not a caller's input.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::Mutex;

use serde::Deserialize;

use crate::config::{Config, ConfigError, ConfigErrors, PriceConfig};
use crate::ir::Usage;
use crate::providers::Registry;
use crate::stack::auth::glob_match;
use crate::usage::{CallRecord, Pricer};

/// The table shipped with amux.
pub const SHIPPED: &str = include_str!("prices.yaml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    /// When the prices were last checked against the providers' pages (YYYY-MM-DD).
    checked: String,
    providers: BTreeMap<String, BTreeMap<String, PriceConfig>>,
}

/// Prices of one provider: exact ids and glob patterns.
#[derive(Default, Debug)]
struct ProviderPrices {
    exact: HashMap<String, PriceConfig>,
    /// Longest pattern first.
    globs: Vec<(String, PriceConfig)>,
}

impl ProviderPrices {
    fn insert(&mut self, model: &str, price: PriceConfig) {
        if model.contains('*') {
            self.globs.retain(|(g, _)| g != model);
            self.globs.push((model.to_string(), price));
            self.globs.sort_by_key(|g| std::cmp::Reverse(g.0.len()));
        } else {
            self.exact.insert(model.to_string(), price);
        }
    }

    fn find(&self, model: &str) -> Option<PriceConfig> {
        let bare = model.strip_prefix("models/").unwrap_or(model);
        for m in [model, bare, strip_date(bare)] {
            if let Some(p) = self.exact.get(m) {
                return Some(*p);
            }
        }
        self.globs.iter().find(|(g, _)| glob_match(g, bare)).map(|(_, p)| *p)
    }
}

/// `claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`; `gpt-4o-2024-08-06` -> `gpt-4o`.
fn strip_date(model: &str) -> &str {
    let b = model.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if b.len() > 9 && b[b.len() - 9] == b'-' && digits(&b[b.len() - 8..]) {
        return &model[..model.len() - 9];
    }
    if b.len() > 11 && b[b.len() - 11] == b'-' && b[b.len() - 6] == b'-' && b[b.len() - 3] == b'-' {
        let (y, m, d) = (&b[b.len() - 10..b.len() - 6], &b[b.len() - 5..b.len() - 3], &b[b.len() - 2..]);
        if digits(y) && digits(m) && digits(d) {
            return &model[..model.len() - 11];
        }
    }
    model
}

/// The cost of `usage` at `price`, in USD; `None` when the call used cache tokens the price has
/// no rate for.
pub fn cost_of(price: &PriceConfig, usage: &Usage) -> Option<f64> {
    let (input, output, read, write) = match price.long_context {
        Some(l) if usage.total_input() > l.above_tokens => (l.input, l.output, l.cache_read, l.cache_write),
        _ => (price.input, price.output, price.cache_read, price.cache_write),
    };
    let rate = |tokens: u64, rate: Option<f64>| if tokens == 0 { Some(0.0) } else { rate };
    let read = rate(usage.cache_read_tokens, read)?;
    let write = rate(usage.cache_write_tokens, write)?;
    let micro = usage.input_tokens as f64 * input
        + usage.output_tokens as f64 * output
        + usage.cache_read_tokens as f64 * read
        + usage.cache_write_tokens as f64 * write;
    Some(micro / 1_000_000.0)
}

/// Every price amux knows, resolved for this config.
#[derive(Debug)]
pub struct PriceBook {
    /// When the shipped table was checked.
    pub checked: String,
    by_provider: HashMap<String, ProviderPrices>,
    /// Alias -> `(provider, upstream model, price)` set on its deployments or the alias itself;
    /// looked up by `&str`, so no key is built per call.
    overrides: HashMap<String, Vec<(String, String, PriceConfig)>>,
    /// Provider name -> preset name.
    kinds: HashMap<String, String>,
    /// `provider/model` pairs already warned about.
    warned: Mutex<HashSet<String>>,
}

fn check_price(path: &str, p: &PriceConfig, errors: &mut Vec<ConfigError>) {
    let mut rates = vec![("input", Some(p.input)), ("output", Some(p.output)), ("cache_read", p.cache_read)];
    rates.push(("cache_write", p.cache_write));
    if let Some(l) = &p.long_context {
        rates.extend([("long_context.input", Some(l.input)), ("long_context.output", Some(l.output))]);
        rates.extend([("long_context.cache_read", l.cache_read), ("long_context.cache_write", l.cache_write)]);
    }
    for (field, v) in rates {
        if v.is_some_and(|v| !(v >= 0.0 && v.is_finite())) {
            errors.push(ConfigError { path: format!("{path}.{field}"), message: "must be a number >= 0".into() });
        }
    }
}

impl PriceBook {
    /// The shipped table, `prices:` from the config over it, and the aliases' and deployments'
    /// own prices.
    pub fn build(config: &Config, registry: &Registry) -> Result<PriceBook, ConfigErrors> {
        let file: PriceFile = serde_norway::from_str(SHIPPED).map_err(|e| {
            ConfigErrors(vec![ConfigError { path: "(shipped prices.yaml)".into(), message: e.to_string() }])
        })?;
        let mut errors = Vec::new();
        let mut by_provider: HashMap<String, ProviderPrices> = HashMap::default();
        let tables = file.providers.iter().map(|t| (t, false)).chain(config.prices.iter().map(|t| (t, true)));
        for ((provider, models), from_config) in tables {
            let entry = by_provider.entry(provider.clone()).or_default();
            for (model, price) in models {
                if from_config {
                    check_price(&format!("prices.{provider}.{model}"), price, &mut errors);
                }
                entry.insert(model, *price);
            }
        }
        let mut overrides = HashMap::default();
        for (i, m) in config.models.iter().enumerate() {
            if let Some(p) = &m.price {
                check_price(&format!("models[{i}].price"), p, &mut errors);
            }
            for (j, d) in m.deployments.iter().enumerate() {
                if let Some(p) = &d.price {
                    check_price(&format!("models[{i}].deployments[{j}].price"), p, &mut errors);
                }
            }
            let single = m.provider.iter().zip(m.model.iter()).map(|(p, model)| (p, model, None));
            let many = m.deployments.iter().map(|d| (&d.provider, &d.model, d.price));
            for (provider, model, own) in single.chain(many) {
                if let Some(price) = own.or(m.price) {
                    let own: &mut Vec<(String, String, PriceConfig)> = overrides.entry(m.name.clone()).or_default();
                    // A later entry for the same deployment replaces an earlier one.
                    own.retain(|(p, md, _)| p != provider || md != model);
                    own.push((provider.clone(), model.clone(), price));
                }
            }
        }
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let kinds = registry.providers.iter().map(|(name, p)| (name.clone(), p.preset.name.to_string())).collect();
        Ok(PriceBook { checked: file.checked, by_provider, overrides, kinds, warned: Mutex::new(HashSet::new()) })
    }

    /// The price of `model` at `provider` when called through alias `alias`.
    pub fn lookup(&self, alias: &str, provider: &str, model: &str) -> Option<PriceConfig> {
        if let Some(own) = self.overrides.get(alias)
            && let Some((_, _, p)) = own.iter().find(|(p, m, _)| p == provider && m == model)
        {
            return Some(*p);
        }
        let kind = self.kinds.get(provider).map(String::as_str);
        [Some(provider), kind.filter(|k| *k != provider)]
            .into_iter()
            .flatten()
            .find_map(|name| self.by_provider.get(name).and_then(|t| t.find(model)))
    }
}

impl Pricer for PriceBook {
    fn cost(&self, rec: &CallRecord) -> Option<f64> {
        if rec.provider == "cache" {
            return Some(0.0);
        }
        let cost = self.lookup(&rec.model, &rec.provider, &rec.upstream_model).and_then(|p| cost_of(&p, &rec.usage));
        if cost.is_none() {
            let id = format!("{}/{}", rec.provider, rec.upstream_model);
            let first = self.warned.lock().map(|mut w| w.insert(id.clone())).unwrap_or(false);
            if first {
                tracing::warn!(
                    model = %id,
                    "no price (or no cache-token rate) for this model: its calls are counted in \
                     amux_cost_unknown_total, not as cost; add it under `prices:` in the config"
                );
            }
        }
        cost
    }
}

#[cfg(test)]
mod tests;
