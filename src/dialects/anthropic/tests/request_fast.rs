//! The one-pass path of `decode_request` against the general decoder: same result on every body
//! it takes, and it steps aside for everything else (errors and unsupported entries are the
//! general decoder's).

use super::super::request_decode::decode_general;
use super::super::request_fast::decode_fast;

fn fixture_bodies() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root.join("tests/fixtures/anthropic/requests")).unwrap() {
        let path = entry.unwrap().path();
        out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
    }
    let bench = std::fs::read_to_string(root.join("benches/fixtures/request-anthropic.json")).unwrap();
    out.push(("bench".into(), bench.replace("__MODEL__", "m").replace("__STREAM__", "true")));
    out
}

/// Bodies with a leading `type` in every block, each with one thing the fast path must either
/// get right or leave to the general decoder.
const CASES: &[&str] = &[
    r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
    r#"{"model":"m","max_tokens":5,"system":"be brief","messages":[{"role":"system","content":"more"},{"role":"user","content":[{"type":"text","text":"a\"\n","cache_control":{"type":"ephemeral"}}]},{"role":"system","content":"mid"}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"},"title":"t"}]}]}"#,
    r#"{"model":"m","messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"redacted_thinking","data":"r"},{"type":"tool_use","id":"t1","name":"f","input":null,"cache_control":{"type":"ephemeral"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":[{"type":"text","text":"out"},{"type":"image","source":{"type":"url","url":"https://x/a.png"}}]},{"type":"tool_result","tool_use_id":"t2","content":null},{"type":"tool_result","tool_use_id":"t3"}]}]}"#,
    r#"{"model":"m","messages":[],"tools":[{"name":"f","input_schema":{"type":"object"},"strict":true,"cache_control":{"type":"ephemeral"}},{"type":"custom","name":"g","description":"d","input_schema":{}}],"tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":true},"thinking":{"type":"enabled","budget_tokens":2048},"output_config":{"effort":"high","format":{"type":"json_schema","schema":{"type":"object"}}},"metadata":{"user_id":"u","x":1},"service_tier":"auto","context_management":{"edits":[]},"cache_control":{"type":"ephemeral"},"inference_geo":"us","stop_sequences":["X"],"temperature":1,"top_p":0.5,"top_k":3,"stream":false}"#,
    r#"{"model":"m","messages":[],"output_format":{"type":"json_schema","schema":{}},"thinking":{"type":"adaptive","display":"full"}}"#,
    // Left to the general decoder: recorded as unsupported, or an error, or unusual shapes.
    r#"{"model":"m","messages":[{"role":"user","content":[{"text":"type second","type":"text"}]}]}"#,
    r#"{"model":"m","messages":[],"unknown":1}"#,
    r#"{"model":"m","messages":[],"unknown":null}"#,
    r#"{"model":"m","messages":[{"role":"user","content":"x","name":"n"}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x","citations":[{"a":1}]}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x","citations":null}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"search_result","content":[]}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="},"title":"t"}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"text","media_type":"text/plain","data":"x"}}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"document","source":{"type":"content","content":[]}}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"AA=="},"context":"c"}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"tool_use","id":"a","name":"b","input":{}}]}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":5}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":5}]}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]}"#,
    r#"{"model":"m","model":"n","messages":[]}"#,
    r#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#,
    r#"{"model":"m","messages":[{"role":"user","content":null}]}"#,
    r#"{"model":"m","system":[{"type":"tool_use","id":"a","name":"b","input":{}}],"messages":[]}"#,
    r#"{"model":"m","messages":[],"metadata":{"user_id":5}}"#,
    r#"{"model":"m","messages":[],"tools":[{"type":"web_search_20250305","name":"web_search"}]}"#,
    r#"{"model":"m","messages":[],"tools":[{"name":"f"}]}"#,
    r#"{"model":"m","messages":[],"tool_choice":{"type":"tool"}}"#,
    r#"{"model":"m","messages":[],"thinking":{"type":"sometimes"}}"#,
    r#"{"model":"m","messages":[],"output_config":{"effort":"huge"}}"#,
    r#"{"model":"m","messages":[]} trailing"#,
    r#"{"model":"m"}"#,
    r#"[]"#,
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
    assert!(fast >= 12, "only {fast} bodies took the fast path");
}

#[test]
fn ordinary_agent_turns_take_the_fast_path() {
    for (name, body) in fixture_bodies() {
        if name == "bench" || name.ends_with("claude_code_style.json") || name.ends_with("tools_parallel_results.json")
        {
            assert!(decode_fast(body.as_bytes()).is_some(), "{name}");
        }
    }
    for case in &CASES[..6] {
        assert!(decode_fast(case.as_bytes()).is_some(), "{case}");
    }
}

/// The reader reads every body as the derived code does: the same request wherever both read
/// it, on the fixtures, the cases above and seeded mutations of them; and it reads the ordinary
/// agent turns itself (the benchmark's body, Claude Code's, parallel tool results).
#[test]
fn the_reader_reads_bodies_as_serde_does() {
    use super::super::request_fast::decode_fast_by;
    let bodies = fixture_bodies();
    for (name, body) in &bodies {
        if name == "bench" || name.ends_with("claude_code_style.json") || name.ends_with("tools_parallel_results.json")
        {
            assert!(decode_fast_by(body.as_bytes(), true).is_some(), "the reader left {name}");
        }
    }
    let mut texts: Vec<String> = bodies.into_iter().map(|(_, b)| b).collect();
    texts.extend(CASES.iter().map(|c| c.to_string()));
    let (both, total) = crate::dialects::reader_agreement(&texts, (200, 301), decode_fast_by);
    // Of the texts the derived code reads, the reader reads most (it leaves images, documents,
    // `\u` escapes and the like).
    assert!(both * 10 > total * 7, "the reader read {both} of the {total} serde reads");
}
