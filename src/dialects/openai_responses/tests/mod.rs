//! Unit tests of the OpenAI Responses codec: decode -> IR and IR -> encode on hand-built values,
//! and every fixture input of this dialect.

mod errors;
mod fixtures;
mod request_decode;
mod request_encode;
mod responses;
mod sdk_shape;
mod stream_decode;
mod stream_encode;
