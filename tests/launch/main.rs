//! `amux launch` end to end with fake harnesses (recording env, args and config files) and a mock
//! Ollama API: each harness's plan, merge-and-restore of user files, the gateway decision, exit
//! codes and signals, and the Ollama lifecycle (present, pulled with progress, failed pull,
//! started and stopped).

mod azure;
mod bedrock;
mod checking;
mod fake;
#[path = "../support/form.rs"]
mod form;
mod harnesses;
mod lifecycle;
mod mock_ollama;
mod observe;
mod process;
#[path = "../support/sigv4.rs"]
mod sigv4;
mod vertex;
