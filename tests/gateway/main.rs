//! Integration tests: the real gateway on a free port against mock upstreams.

#[path = "../support/form.rs"]
mod form;
#[path = "../support/mod.rs"]
mod support;

mod azure_upstream;
mod bedrock;
mod bedrock_chain;
mod bedrock_upstream;
mod budget;
mod cache;
mod disconnects;
mod drip;
mod entra;
mod errors;
mod faults;
mod h2_stall;
mod limits;
mod matrix;
mod matrix_upstream;
mod metrics;
mod passthrough;
mod policy;
mod raw_passthrough;
mod router;
mod stack;
mod surfaces;
mod tls;
mod translate;
mod upstream_tls;
mod vertex_upstream;
