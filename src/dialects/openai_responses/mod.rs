//! OpenAI Responses dialect (`/v1/responses`), for Codex callers and for `openai` upstreams
//! configured with `api: responses`.
//!
//! - `wire`: shared helpers (usage, ids, data URLs, the custom-tool schema, signatures);
//! - `request_decode` (+ `request_input`) / `request_encode`: caller body -> IR, IR -> upstream
//!   body (stateless: `store: false`, full history in `input`);
//! - `object`: the `response` object and output items sent to callers;
//! - `response`: non-streaming responses both ways;
//! - `stream_decode` / `stream_encode`: SSE events both ways;
//! - `error`: error bodies and stream errors both ways.
//!
//! Two conventions carry Responses-only state through the IR:
//! - `custom` tools (free-form text input) are function tools with an `{"input": string}` schema
//!   and `ir::Tool::custom` set, so their calls become `custom_tool_call` items again;
//! - a reasoning item from a Responses upstream becomes a thinking block whose signature is
//!   `responses:<item id>:<encrypted_content>`, because OpenAI verifies the encrypted content
//!   against the item id when the history is replayed.
//!
//! The translation rules are those of `notes/mapping3.md` (openai_responses); each file
//! documents what it drops on purpose.

mod error;
mod object;
mod request_decode;
mod request_encode;
mod request_input;
mod response;
mod stream_decode;
mod stream_encode;
mod wire;

#[cfg(test)]
mod tests;

pub use error::{decode_error, encode_error};
pub use request_decode::decode_request;
pub use request_encode::encode_request;
pub use response::{decode_response, encode_response, encode_response_for};
pub use stream_decode::StreamDecoder;
pub use stream_encode::StreamEncoder;
