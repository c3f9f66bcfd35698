//! Price table: the shipped file parses and covers every preset, lookups, and cost arithmetic.

use super::*;
use crate::config::{LongContextPrice, parse_str};
use crate::providers::presets::PRESETS;
use crate::usage::CallRecord;

fn book(extra: &str) -> PriceBook {
    let cfg = parse_str(&format!(
        "discover_env: false\nproviders:\n  anth: {{kind: anthropic, api_key: k}}\n  or: {{kind: openrouter, api_key: k}}\n  local: {{kind: ollama}}\n{extra}"
    ))
    .unwrap();
    let reg = Registry::build(&cfg, &|_| None).unwrap();
    PriceBook::build(&cfg, &reg).unwrap()
}

fn price(input: f64, output: f64, read: Option<f64>, write: Option<f64>) -> PriceConfig {
    PriceConfig { input, output, cache_read: read, cache_write: write, context_window: None, long_context: None }
}

#[test]
fn shipped_table_parses_is_dated_and_covers_every_preset() {
    let file: PriceFile = serde_norway::from_str(SHIPPED).unwrap();
    assert_eq!(file.checked.len(), 10, "checked: YYYY-MM-DD");
    for p in PRESETS {
        assert!(file.providers.contains_key(p.name), "no prices for preset {}", p.name);
    }
    for (provider, models) in &file.providers {
        let mut errors = Vec::new();
        for (m, p) in models {
            check_price(&format!("{provider}.{m}"), p, &mut errors);
        }
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn lookup_by_kind_date_suffix_prefix_and_glob() {
    let b = book("");
    let sonnet = b.lookup("x", "anth", "claude-sonnet-4-5-20250929").unwrap();
    assert_eq!((sonnet.input, sonnet.cache_read), (3.0, Some(0.3)));
    assert_eq!(b.lookup("x", "openai", "gpt-4o-2024-08-06").map(|p| p.input), Some(2.5));
    assert_eq!(b.lookup("x", "or", "anthropic/claude-sonnet-4.5").unwrap().output, 15.0);
    assert_eq!(b.lookup("x", "or", "meta-llama/llama-3.3-70b:free").unwrap().output, 0.0);
    assert_eq!(b.lookup("x", "local", "qwen3:32b").unwrap().input, 0.0);
    assert!(b.lookup("x", "anth", "claude-unknown").is_none());
}

#[test]
fn config_prices_override_and_alias_and_deployment_prices_win() {
    let b = book(
        "prices:\n  anth:\n    claude-up: {input: 1, output: 2}\n  anthropic:\n    claude-haiku-4-5: {input: 9, output: 9}\nmodels:\n  - {name: a, provider: anth, model: claude-up, price: {input: 4, output: 5}}\n  - name: b\n    price: {input: 6, output: 7}\n    deployments:\n      - {provider: anth, model: claude-up, price: {input: 8, output: 9}}\n      - {provider: anth, model: claude-haiku-4-5}\n",
    );
    assert_eq!(b.lookup("direct", "anth", "claude-up").unwrap().input, 1.0);
    assert_eq!(b.lookup("direct", "anth", "claude-haiku-4-5").unwrap().input, 9.0);
    assert_eq!(b.lookup("a", "anth", "claude-up").unwrap().input, 4.0);
    assert_eq!(b.lookup("b", "anth", "claude-up").unwrap().input, 8.0);
    assert_eq!(b.lookup("b", "anth", "claude-haiku-4-5").unwrap().input, 6.0);
}

#[test]
fn bad_config_prices_are_reported_with_their_path() {
    let cfg = parse_str("discover_env: false\nprices:\n  x:\n    m: {input: -1, output: 2}\n").unwrap();
    let reg = Registry::build(&cfg, &|_| None).unwrap();
    let errs = PriceBook::build(&cfg, &reg).unwrap_err().0;
    assert_eq!(errs[0].path, "prices.x.m.input");
}

#[test]
fn cache_tokens_are_priced_at_their_own_rates() {
    let p = price(3.0, 15.0, Some(0.3), Some(3.75));
    let u = Usage {
        input_tokens: 1_000,
        output_tokens: 2_000,
        cache_read_tokens: 10_000,
        cache_write_tokens: 4_000,
        reasoning_tokens: 500,
    };
    // 1000*3 + 2000*15 + 10000*0.3 + 4000*3.75 = 3000 + 30000 + 3000 + 15000 = 51000 micro-USD.
    assert!((cost_of(&p, &u).unwrap() - 0.051).abs() < 1e-12);
    // No cache rate: a call that used the cache is unknown, one that did not is priced.
    let bare = price(3.0, 15.0, None, None);
    assert_eq!(cost_of(&bare, &u), None);
    let plain = Usage { input_tokens: 1_000_000, ..Usage::default() };
    assert_eq!(cost_of(&bare, &plain), Some(3.0));
}

#[test]
fn long_prompts_use_the_long_context_rates_for_every_token() {
    let mut p = price(1.0, 2.0, Some(0.1), None);
    p.long_context = Some(LongContextPrice {
        above_tokens: 100,
        input: 10.0,
        output: 20.0,
        cache_read: Some(1.0),
        cache_write: None,
    });
    let short = Usage { input_tokens: 50, cache_read_tokens: 50, output_tokens: 10, ..Usage::default() };
    assert!((cost_of(&p, &short).unwrap() - (50.0 + 5.0 + 20.0) / 1e6).abs() < 1e-15);
    let long = Usage { input_tokens: 51, cache_read_tokens: 50, output_tokens: 10, ..Usage::default() };
    assert!((cost_of(&p, &long).unwrap() - (510.0 + 50.0 + 200.0) / 1e6).abs() < 1e-15);
}

#[test]
fn pricer_prices_records_and_cache_hits_are_free() {
    let b = book("");
    let mut rec = CallRecord::new(crate::ir::Dialect::Anthropic, None, None, "claude-haiku-4-5".into(), false);
    rec.provider = "anth".into();
    rec.upstream_model = "claude-haiku-4-5".into();
    rec.usage = Usage { input_tokens: 1_000_000, output_tokens: 1_000_000, ..Usage::default() };
    assert_eq!(b.cost(&rec), Some(6.0));
    rec.upstream_model = "claude-nope".into();
    assert_eq!(b.cost(&rec), None);
    rec.provider = "cache".into();
    assert_eq!(b.cost(&rec), Some(0.0));
}

#[test]
fn date_suffixes() {
    assert_eq!(strip_date("claude-sonnet-4-5-20250929"), "claude-sonnet-4-5");
    assert_eq!(strip_date("gpt-4o-2024-08-06"), "gpt-4o");
    assert_eq!(strip_date("gpt-4o"), "gpt-4o");
    assert_eq!(strip_date("o3-mini"), "o3-mini");
}
