//! The config file: its types (which also generate the JSON Schema in `config/`), loading with
//! every error reported at its exact path, and `${ENV}` interpolation.

mod lifecycle;
mod limits;
mod load;
mod observe;
mod team;
mod types;

pub use load::{ConfigError, ConfigErrors, load_file, parse_str};
pub use types::{
    AcceptsConfig, AdminConfig, BudgetConfig, CacheBackend, CacheConfig, Config, DeploymentConfig, FailMode, KeyConfig,
    LifecycleConfig, LimitsConfig, LongContextPrice, MetricsConfig, ModelAlias, OpenAiApi, Permission, PriceConfig,
    ProviderConfig, ProviderKind, RedisConfig, RouterConfig, Strategy, TeamConfig, Timeouts, TlsConfig, TracingConfig,
    TranslationMode,
};

/// The JSON Schema of the config file, pretty-printed (committed as `config/amux.schema.json`).
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Config);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
