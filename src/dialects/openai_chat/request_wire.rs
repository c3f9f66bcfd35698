//! The upstream Chat Completions request body as borrowed `Serialize` structs, so the encoder
//! writes the body straight from the IR without building a `Value` tree. Fields are declared in
//! sorted key order (the order `serde_json::Value` writes), so the bytes are those of the
//! earlier `Value` encoding.

use serde::Serialize;
use serde_json::Value;

use crate::ir::Schema;

#[derive(Serialize, Default)]
pub struct OutRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    pub messages: Vec<OutMessage<'a>>,
    pub model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<OutFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<OutToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<OutTool<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
}

#[derive(Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

/// A message: `{"content": .., "role": .., "tool_call_id"?: .., "tool_calls"?: [..]}`.
#[derive(Serialize)]
pub struct OutMessage<'a> {
    pub content: OutContent<'a>,
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<OutToolCall<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum OutContent<'a> {
    Null,
    Text(String),
    Parts(Vec<OutPart<'a>>),
}

/// A user content part (`type` sorts after the payload key in each).
#[derive(Serialize)]
#[serde(untagged)]
pub enum OutPart<'a> {
    Text { text: String, r#type: &'static str },
    Image { image_url: OutUrl, r#type: &'static str },
    File { file: OutFile<'a>, r#type: &'static str },
}

impl OutPart<'_> {
    pub fn text(text: String) -> Self {
        OutPart::Text { text, r#type: "text" }
    }
}

#[derive(Serialize)]
pub struct OutUrl {
    pub url: String,
}

#[derive(Serialize)]
pub struct OutFile<'a> {
    pub file_data: String,
    pub filename: &'a str,
}

#[derive(Serialize)]
pub struct OutToolCall<'a> {
    pub function: OutCall<'a>,
    pub id: &'a str,
    pub r#type: &'static str,
}

#[derive(Serialize)]
pub struct OutCall<'a> {
    pub arguments: String,
    pub name: &'a str,
}

#[derive(Serialize)]
pub struct OutTool<'a> {
    pub function: OutFunction<'a>,
    pub r#type: &'static str,
}

#[derive(Serialize)]
pub struct OutFunction<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub name: &'a str,
    pub parameters: &'a Schema,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum OutToolChoice<'a> {
    Mode(&'static str),
    Function { function: OutName<'a>, r#type: &'static str },
}

#[derive(Serialize)]
pub struct OutName<'a> {
    pub name: &'a str,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum OutFormat<'a> {
    JsonObject { r#type: &'static str },
    JsonSchema { json_schema: OutJsonSchema<'a>, r#type: &'static str },
}

#[derive(Serialize)]
pub struct OutJsonSchema<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub name: &'a str,
    pub schema: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}
