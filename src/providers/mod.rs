//! Outbound side: the providers amux can call (from config and from the environment), how a model
//! name routes to one of them, and the shared HTTP client.

pub mod aws;
pub mod azure;
pub mod bedrock_invoke;
pub mod bedrock_models;
pub mod client;
mod cloud_config;
mod endpoint;
pub mod gcp;
pub mod pool;
pub mod presets;
mod registry;
mod route;
mod secret;
pub mod upbody;
pub mod vertex;

pub use endpoint::{check_bedrock_model, check_path_model};
pub use registry::{Alias, Deployment, Provider, Registry, expand_env};
pub use secret::{Secret, sensitive_header};
