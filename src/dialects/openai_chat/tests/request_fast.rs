//! The one-pass path of `decode_request` against the general decoder: same result on every body
//! it takes, and it steps aside for everything else (errors and unsupported entries are the
//! general decoder's).

use super::super::request_decode::decode_general;
use super::super::request_fast::decode_fast;

fn fixture_bodies() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root.join("tests/fixtures/openai_chat/requests")).unwrap() {
        let path = entry.unwrap().path();
        out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
    }
    let bench = std::fs::read_to_string(root.join("benches/fixtures/request-openai.json")).unwrap();
    out.push(("bench".into(), bench.replace("__MODEL__", "m").replace("__STREAM__", "true")));
    out
}

/// Bodies with a leading `type` in every part, each with one thing the fast path must either get
/// right or leave to the general decoder.
const CASES: &[&str] = &[
    r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
    r#"{"model":"m","max_tokens":5,"max_completion_tokens":7,"temperature":1,"top_p":0.5,"stop":"X","stream":true,"stream_options":{"include_usage":null,"include_obfuscation":false},"user":"u","seed":1,"store":true,"metadata":{"a":"b"},"service_tier":"auto","prompt_cache_key":"k","safety_identifier":"s","n":1,"logprobs":false,"top_logprobs":0,"presence_penalty":0,"frequency_penalty":0.0,"logit_bias":{},"functions":[],"modalities":["text"],"messages":[{"role":"developer","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"user","content":"x"}]}"#,
    r#"{"model":"m","stop":["A","B"],"stream_options":{"include_usage":true},"reasoning_effort":"none","response_format":{"type":"json_schema","json_schema":{"name":"o","schema":{"b":1,"a":2},"strict":true}},"messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA==","detail":"low"}},{"type":"file","file":{"file_data":"data:application/pdf;base64,AA==","filename":"a.pdf"}}]},{"role":"system","content":"later"}]}"#,
    r#"{"model":"m","tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"z":{},"a":{}}},"strict":true,"x":1},"y":2},{"type":"function","function":{"name":"g","parameters":null}}],"tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false,"reasoning_effort":"high","messages":[{"role":"user","content":"q"},{"role":"assistant","reasoning_content":"","reasoning":"think","content":[{"type":"text","text":""},{"type":"refusal","refusal":"no"}],"refusal":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":" "}},{"id":"c2","function":{"name":"g","arguments":"{\"a\":[1,2]}"},"index":1}]},{"role":"tool","tool_call_id":"c1","content":"r1"},{"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"r2"}]},{"role":"user","content":"more"},{"role":"assistant","content":"","tool_calls":null}]}"#,
    r#"{"model":"m","tool_choice":"required","tools":[],"messages":[{"role":"assistant","content":null}]}"#,
    // Left to the general decoder: recorded as unsupported, or an error, or unusual shapes.
    r#"{"model":"m","messages":[{"role":"user","content":[{"text":"type second","type":"text"}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a","type":"image_url"}]}]}"#,
    r#"{"model":"m","messages":[],"n":2}"#,
    r#"{"model":"m","messages":[],"modalities":["text","audio"]}"#,
    r#"{"model":"m","messages":[],"unknown":1}"#,
    r#"{"model":"m","messages":[],"unknown":null}"#,
    r#"{"model":"m","messages":[],"stream_options":{"other":1}}"#,
    r#"{"model":"m","messages":[],"tools":[{"type":"custom","custom":{"name":"c"}}]}"#,
    r#"{"model":"m","messages":[],"tools":[{"type":"function","function":{"name":"f","strict":"yes"}}]}"#,
    r#"{"model":"m","messages":[],"tool_choice":{"type":"allowed_tools","allowed_tools":{}}}"#,
    r#"{"model":"m","messages":[],"tool_choice":"sometimes"}"#,
    r#"{"model":"m","messages":[],"reasoning_effort":"extreme"}"#,
    r#"{"model":"m","messages":[],"response_format":{"type":"yaml"}}"#,
    r#"{"model":"","messages":[]}"#,
    r#"{"messages":[]}"#,
    r#"{"model":"m"}"#,
    r#"{"model":"m","model":"n","messages":[]}"#,
    r#"{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}"#,
    r#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":null}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"refusal","refusal":"r"}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,AA"}}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{}}]}]}"#,
    r#"{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]}"#,
    r#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#,
    r#"{"model":"m","messages":[{"role":"assistant","content":5}]}"#,
    r#"{"model":"m","messages":[{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]}"#,
    r#"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"custom","custom":{}}]}]}"#,
    r#"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{bad"}}]}]}"#,
    r#"{"model":"m","messages":[{"role":"assistant","reasoning_content":5,"content":"x"}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":"x","name":"n"}]}"#,
    r#"{"model":"m","messages":[]} trailing"#,
    r#"[]"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x","cache_control":{"type":"ephemeral"}}],"cache_control":{"type":"ephemeral"}}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"function":{"arguments":"{\"p\":\"a\\nb\"}","x":[],"name":"f"},"type":null,"id":"c1"}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}"#,
];

#[test]
fn fast_path_agrees_with_the_general_decoder() {
    let mut bodies = fixture_bodies();
    bodies.extend(CASES.iter().enumerate().map(|(i, c)| (format!("case {i}"), c.to_string())));
    let mut fast = 0;
    for (name, body) in &bodies {
        let general = decode_general(body.as_bytes());
        if let Some(r) = decode_fast(body.as_bytes()) {
            fast += 1;
            assert_eq!(Ok(r), general, "{name}");
        }
    }
    assert!(fast >= 14, "only {fast} bodies took the fast path");
}

#[test]
fn ordinary_agent_turns_take_the_fast_path() {
    for (name, body) in fixture_bodies() {
        if name == "bench" || name.ends_with("tools_parallel_results.json") || name.ends_with("image_base64.json") {
            assert!(decode_fast(body.as_bytes()).is_some(), "{name}");
        }
    }
    for case in &CASES[..5] {
        assert!(decode_fast(case.as_bytes()).is_some(), "{case}");
    }
}

/// The reader reads every body as the derived code does: the same request wherever both read
/// it, on the fixtures, the cases above and seeded mutations of them; and it reads the fixtures
/// and the plain cases itself.
#[test]
fn the_reader_reads_bodies_as_serde_does() {
    use super::super::request_fast::decode_fast_by;
    let mut texts: Vec<String> = fixture_bodies().into_iter().map(|(_, b)| b).collect();
    texts.extend(CASES.iter().map(|c| c.to_string()));
    for text in &texts {
        if decode_fast_by(text.as_bytes(), false).is_some() && !text.contains("\\u") {
            assert!(decode_fast_by(text.as_bytes(), true).is_some(), "the reader left {text}");
        }
    }
    let (both, total) = crate::dialects::reader_agreement(&texts, (200, 101), decode_fast_by);
    // Of the texts the derived code reads, the reader reads most (it leaves `\u` escapes,
    // deep nesting and the like).
    assert!(both * 10 > total * 8, "the reader read {both} of the {total} serde reads");
}
