//! Gemini `generateContent` caller body -> IR request (the contents themselves are in
//! `request_contents`). The model and the stream flag come from the URL
//! (`/v1beta/models/{model}:streamGenerateContent`), so `model` stays empty and `stream` false;
//! the surface fills them. Every field is accepted under both spellings (`generationConfig` and
//! `generation_config`).
//!
//! Fields the IR cannot carry go to `Request::unsupported` under their path, advisory ones
//! (`safetySettings`, `labels`, `generationConfig.seed`, `generationConfig.mediaResolution`, ...)
//! included; [`crate::policy`] decides which are dropped and reported and which are refused.
//! Defaults never count. Not recorded: `model` in the body (the URL names the model),
//! `systemInstruction.role` (always `user`) and `thinkingConfig.includeThoughts` (thoughts are
//! always passed on).

use serde_json::{Map, Value};

use crate::ir::{self, ApiError, Reasoning, ReasoningEffort, ResponseFormat, Schema, SystemBlock, Tool, ToolChoice};

use super::request_contents::decode_contents;
use super::schema::to_json_schema;
use super::wire::{as_array, as_bool, as_f64, as_object, as_str, as_u64, camel, get};

/// Decodes a Gemini CLI / google-genai request body.
pub fn decode_request(body: &[u8]) -> Result<ir::Request, ApiError> {
    let root: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid_field("body", format!("invalid JSON: {e}")))?;
    let obj = as_object(&root, "body")?;
    let mut req = ir::Request::default();
    for (key, value) in obj {
        if value.is_null() {
            continue;
        }
        let key = camel(key);
        match key.as_str() {
            "contents" => {}
            "systemInstruction" => req.system = decode_system(value, &mut req.unsupported)?,
            "tools" => decode_tools(value, &mut req)?,
            "toolConfig" => decode_tool_config(value, &mut req)?,
            "generationConfig" => decode_generation_config(value, &mut req)?,
            "model" => {}
            // safetySettings, labels (advisory); cachedContent (server-side cache), and anything
            // unknown.
            _ => {
                req.unsupported.insert(key, value.clone());
            }
        }
    }
    match get(obj, "contents") {
        Some(Value::Array(contents)) => decode_contents(&mut req, contents)?,
        _ => return Err(ApiError::invalid_field("contents", "required array")),
    }
    Ok(req)
}

fn decode_system(v: &Value, unsupported: &mut Map<String, Value>) -> Result<Vec<SystemBlock>, ApiError> {
    // The SDKs also accept a bare string or a list of parts; the REST API takes a Content.
    if let Value::String(s) = v {
        return Ok(vec![SystemBlock { text: s.clone(), cache_control: None }]);
    }
    let o = as_object(v, "systemInstruction")?;
    let parts = match get(o, "parts") {
        Some(p) => as_array(p, "systemInstruction.parts")?,
        None => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let path = format!("systemInstruction.parts[{i}]");
        let po = as_object(p, &path)?;
        match get(po, "text") {
            Some(t) if po.keys().all(|k| matches!(camel(k).as_str(), "text" | "thought" | "thoughtSignature")) => {
                let text = as_str(t, &format!("{path}.text"))?;
                if !text.is_empty() {
                    out.push(SystemBlock { text: text.to_string(), cache_control: None });
                }
            }
            _ => {
                unsupported.insert(path, p.clone());
            }
        }
    }
    Ok(out)
}

fn decode_tools(v: &Value, req: &mut ir::Request) -> Result<(), ApiError> {
    for (i, t) in as_array(v, "tools")?.iter().enumerate() {
        let path = format!("tools[{i}]");
        for (k, x) in as_object(t, &path)? {
            if x.is_null() {
                continue;
            }
            let k = camel(k);
            if k != "functionDeclarations" {
                // googleSearch, codeExecution, urlContext, retrieval, computerUse...: hosted tools.
                req.unsupported.insert(format!("{path}.{k}"), x.clone());
                continue;
            }
            for (j, f) in as_array(x, &format!("{path}.functionDeclarations"))?.iter().enumerate() {
                let fpath = format!("{path}.functionDeclarations[{j}]");
                req.tools.push(decode_function(f, &fpath, &mut req.unsupported)?);
            }
        }
    }
    Ok(())
}

fn decode_function(f: &Value, path: &str, unsupported: &mut Map<String, Value>) -> Result<Tool, ApiError> {
    let o = as_object(f, path)?;
    let name = as_str(get(o, "name").unwrap_or(&Value::Null), &format!("{path}.name"))?.to_string();
    let description = match get(o, "description") {
        Some(d) => Some(as_str(d, &format!("{path}.description"))?.to_string()),
        None => None,
    };
    let input_schema = match (get(o, "parametersJsonSchema"), get(o, "parameters")) {
        (Some(s), _) => Schema::from_value(s),
        (None, Some(p)) => Schema::from_value(&to_json_schema(p)),
        (None, None) => Schema::from_value(&serde_json::json!({"type": "object", "properties": {}})),
    };
    for (k, x) in o {
        let k = camel(k);
        let known = matches!(k.as_str(), "name" | "description" | "parameters" | "parametersJsonSchema");
        if !known && !x.is_null() {
            // response / responseJsonSchema / behavior: no other dialect has them.
            unsupported.insert(format!("{path}.{k}"), x.clone());
        }
    }
    Ok(Tool { name, description, input_schema, strict: None, cache_control: None, custom: false, namespace: None })
}

fn decode_tool_config(v: &Value, req: &mut ir::Request) -> Result<(), ApiError> {
    for (k, x) in as_object(v, "toolConfig")? {
        if x.is_null() {
            continue;
        }
        let k = camel(k);
        if k != "functionCallingConfig" {
            req.unsupported.insert(format!("toolConfig.{k}"), x.clone());
            continue;
        }
        let path = "toolConfig.functionCallingConfig";
        let fc = as_object(x, path)?;
        let names: Vec<&str> = match get(fc, "allowedFunctionNames") {
            Some(n) => as_array(n, &format!("{path}.allowedFunctionNames"))?
                .iter()
                .enumerate()
                .map(|(i, s)| as_str(s, &format!("{path}.allowedFunctionNames[{i}]")))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let mode = match get(fc, "mode") {
            Some(m) => as_str(m, &format!("{path}.mode"))?.to_ascii_uppercase(),
            None => "AUTO".into(),
        };
        req.tool_choice = match (mode.as_str(), names.as_slice()) {
            ("AUTO" | "MODE_UNSPECIFIED", []) => Some(ToolChoice::Auto),
            ("NONE", _) => Some(ToolChoice::None),
            ("ANY", []) => Some(ToolChoice::Any),
            ("ANY", [one]) => Some(ToolChoice::Tool { name: (*one).to_string() }),
            ("VALIDATED", []) => Some(ToolChoice::Validated),
            ("AUTO" | "ANY" | "VALIDATED" | "MODE_UNSPECIFIED", _) => {
                // Subsets of allowed function names have no IR form.
                req.unsupported.insert(path.into(), x.clone());
                None
            }
            (other, _) => {
                return Err(ApiError::invalid_field(format!("{path}.mode"), format!("unknown mode {other:?}")));
            }
        };
        for (fk, fx) in fc {
            let fk = camel(fk);
            if !matches!(fk.as_str(), "mode" | "allowedFunctionNames") && !fx.is_null() && fx != &Value::Bool(false) {
                req.unsupported.insert(format!("{path}.{fk}"), fx.clone());
            }
        }
    }
    Ok(())
}

fn decode_generation_config(v: &Value, req: &mut ir::Request) -> Result<(), ApiError> {
    let o = as_object(v, "generationConfig")?;
    let mut mime: Option<String> = None;
    let mut schema: Option<Value> = None;
    for (k, x) in o {
        if x.is_null() {
            continue;
        }
        let k = camel(k);
        let path = format!("generationConfig.{k}");
        match k.as_str() {
            "temperature" => req.temperature = Some(as_f64(x, &path)?),
            "topP" => req.top_p = Some(as_f64(x, &path)?),
            "topK" => req.top_k = Some(as_u64(x, &path)?),
            "maxOutputTokens" => req.max_tokens = Some(as_u64(x, &path)?),
            "stopSequences" => {
                req.stop_sequences = as_array(x, &path)?
                    .iter()
                    .enumerate()
                    .map(|(i, s)| as_str(s, &format!("{path}[{i}]")).map(str::to_string))
                    .collect::<Result<_, _>>()?;
            }
            "responseMimeType" => mime = Some(as_str(x, &path)?.to_string()),
            "responseJsonSchema" => schema = Some(x.clone()),
            "responseSchema" if schema.is_none() => schema = Some(to_json_schema(x)),
            "responseSchema" => {}
            "thinkingConfig" => req.reasoning = decode_thinking(x, &path)?,
            "candidateCount" if as_u64(x, &path)? == 1 => {}
            "presencePenalty" | "frequencyPenalty" if x.as_f64() == Some(0.0) => {}
            "responseLogprobs" | "audioTimestamp" | "enableAffectiveDialog" if x == &Value::Bool(false) => {}
            "responseModalities" if is_text_only(x) => {}
            // candidateCount > 1, penalties, logprobs, speech, routing, other modalities...
            _ => {
                req.unsupported.insert(path, x.clone());
            }
        }
    }
    req.response_format = match (mime.as_deref(), schema) {
        (None | Some("text/plain"), None) => None,
        (Some("application/json"), Some(schema)) => {
            Some(ResponseFormat::JsonSchema { name: "response".into(), schema, strict: None, description: None })
        }
        (Some("application/json"), None) => Some(ResponseFormat::JsonObject),
        (None | Some("text/plain"), Some(schema)) => {
            req.unsupported.insert("generationConfig.responseSchema".into(), schema);
            None
        }
        // text/x.enum and other output types.
        (Some(other), _) => {
            req.unsupported.insert("generationConfig.responseMimeType".into(), Value::String(other.to_string()));
            None
        }
    };
    Ok(())
}

fn is_text_only(v: &Value) -> bool {
    v.as_array().is_some_and(|m| m.iter().all(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case("text"))))
}

/// `thinkingConfig`: `thinkingBudget` -1 is dynamic (adaptive), 0 is off; `thinkingLevel`
/// becomes an effort.
fn decode_thinking(v: &Value, path: &str) -> Result<Option<Reasoning>, ApiError> {
    let o = as_object(v, path)?;
    let mut r = Reasoning { enabled: true, ..Reasoning::default() };
    let mut any = false;
    if let Some(b) = get(o, "thinkingBudget") {
        let bpath = format!("{path}.thinkingBudget");
        match b.as_i64() {
            Some(-1) => r.adaptive = true,
            Some(0) => return Ok(Some(Reasoning::default())),
            Some(n) if n > 0 => r.budget_tokens = Some(n as u64),
            _ => return Err(ApiError::invalid_field(bpath, "expected -1, 0 or a positive integer")),
        }
        any = true;
    }
    if let Some(l) = get(o, "thinkingLevel") {
        let lpath = format!("{path}.thinkingLevel");
        let level = as_str(l, &lpath)?.to_ascii_lowercase();
        if level != "thinking_level_unspecified" {
            let effort = ReasoningEffort::parse(&level)
                .ok_or_else(|| ApiError::invalid_field(lpath, format!("unknown thinking level {level:?}")))?;
            r.effort = Some(effort);
            any = true;
        }
    }
    if let Some(i) = get(o, "includeThoughts") {
        as_bool(i, &format!("{path}.includeThoughts"))?;
        any = true;
    }
    // `includeThoughts` alone keeps the model's default, which is dynamic thinking.
    if r.budget_tokens.is_none() && r.effort.is_none() {
        r.adaptive = true;
    }
    Ok(any.then_some(r))
}
