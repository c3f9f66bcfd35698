//! Unit tests of the OpenAI Chat codec: decode -> IR and IR -> encode on hand-built values.

mod errors;
mod fixtures;
mod request_decode;
mod request_encode;
mod request_fast;
mod responses;
mod stream_decode;
mod stream_encode;
