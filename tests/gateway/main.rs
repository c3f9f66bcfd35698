//! Integration tests: the real gateway on a free port against mock upstreams.

#[path = "../support/mod.rs"]
mod support;

mod budget;
mod cache;
mod errors;
mod matrix;
mod matrix_upstream;
mod metrics;
mod passthrough;
mod policy;
mod router;
mod stack;
mod surfaces;
mod translate;
