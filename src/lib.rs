//! amux: an LLM gateway and launcher for coding agents.
//!
//! Data flow of one request: surface (axum route, knows its dialect) -> decode -> route (model
//! name -> provider + upstream model) -> same-dialect byte path or cross-dialect translation
//! through [`ir`] -> provider (HTTP) -> response/stream back in the caller's dialect, with a
//! [`usage::CallRecord`] emitted once per call.

pub mod allocator;
mod bytescan;
pub mod config;
pub mod dialects;
pub mod eventstream;
pub mod gateway;
pub mod ir;
mod jsonscan;
pub mod jsonwrite;
pub mod launch;
pub mod policy;
pub mod providers;
pub mod redact;
pub mod sse;
pub mod stack;
pub mod surfaces;
pub mod telemetry;
pub mod tokens;
pub mod translate;
pub mod usage;
