//! PLACEHOLDER: filled in by the dialect work (see crate::dialects for the contract).

use bytes::BytesMut;

use crate::ir::{self, ApiError, StreamEvent};
use crate::sse::SseEvent;

pub fn decode_request(_body: &[u8]) -> Result<ir::Request, ApiError> {
    unimplemented!()
}
pub fn encode_request(_req: &ir::Request, _model: &str) -> Result<Vec<u8>, ApiError> {
    unimplemented!()
}
pub fn decode_response(_body: &[u8]) -> Result<ir::Response, ApiError> {
    unimplemented!()
}
pub fn encode_response(_resp: &ir::Response) -> Vec<u8> {
    unimplemented!()
}
pub fn decode_error(_status: u16, _body: &[u8]) -> ApiError {
    unimplemented!()
}
pub fn encode_error(_err: &ApiError) -> Vec<u8> {
    unimplemented!()
}

#[derive(Debug, Default)]
pub struct StreamDecoder {}
impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn feed(&mut self, _ev: &SseEvent, _out: &mut Vec<StreamEvent>) {
        unimplemented!()
    }
    pub fn finish(&mut self, _out: &mut Vec<StreamEvent>) {
        unimplemented!()
    }
}

#[derive(Debug, Default)]
pub struct StreamEncoder {}
impl StreamEncoder {
    pub fn new(_req: &ir::Request) -> Self {
        Self::default()
    }
    pub fn encode(&mut self, _ev: &StreamEvent, _out: &mut BytesMut) {
        unimplemented!()
    }
}
