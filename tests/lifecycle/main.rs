//! The real `amux serve` process through its lifecycle: graceful shutdown on SIGTERM and live
//! config reload on SIGHUP or a file change, against a mock upstream on 127.0.0.1.

#[path = "../support/mod.rs"]
mod support;

mod faults;
mod process;
mod reload;
mod shutdown;
mod upstream_tls;
