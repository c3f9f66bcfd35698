//! The policy's tables and its fitting of a request to a provider.

use serde_json::json;

use super::*;
use crate::ir::{Message, Reasoning, Role};

fn sorted(caller: Dialect, entries: &[(&str, Value)]) -> Request {
    let mut req = Request::default();
    for (k, v) in entries {
        req.unsupported.insert((*k).to_string(), v.clone());
    }
    sort(caller, &mut req);
    req
}

#[test]
fn shape_removes_indices() {
    assert_eq!(shape("messages[3].content[12].name"), "messages[].content[].name");
    assert_eq!(shape("tools[0].eager_input_streaming"), "tools[].eager_input_streaming");
    assert_eq!(shape("seed"), "seed");
}

#[test]
fn the_reported_examples_are_advisory() {
    let r = sorted(Dialect::Anthropic, &[("tools[0].eager_input_streaming", json!(true))]);
    assert_eq!(r.dropped, ["tools[0].eager_input_streaming"]);
    assert!(r.unsupported.is_empty());
    let r = sorted(Dialect::OpenAiChat, &[("messages[3].name", json!("shell"))]);
    assert_eq!(r.dropped, ["messages[3].name"]);
    assert!(r.unsupported.is_empty());
}

#[test]
fn meaning_and_unknown_fields_stay_refused() {
    let r = sorted(
        Dialect::OpenAiChat,
        &[("n", json!(2)), ("logprobs", json!(true)), ("no_such_field", json!(1)), ("functions", json!([{}]))],
    );
    assert!(r.dropped.is_empty());
    assert_eq!(r.unsupported.len(), 4);
    let r = sorted(Dialect::OpenAiResponses, &[("previous_response_id", json!("resp_1"))]);
    assert!(r.unsupported.contains_key("previous_response_id"));
}

#[test]
fn metadata_prefix_matches_fields_under_it_only() {
    let r = sorted(Dialect::Anthropic, &[("metadata.session", json!("x")), ("metadataX", json!(1))]);
    assert_eq!(r.dropped, ["metadata.session"]);
    assert!(r.unsupported.contains_key("metadataX"));
}

#[test]
fn web_search_is_mapped_from_every_dialect() {
    let r = sorted(
        Dialect::Anthropic,
        &[(
            "tools[2]",
            json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 3,
                   "allowed_domains": ["docs.rs"], "user_location": {"type": "approximate", "city": "Oslo"}}),
        )],
    );
    let t = &r.hosted_tools[0];
    assert_eq!(
        (t.max_uses, t.allowed_domains.as_slice(), t.path.as_str()),
        (Some(3), &["docs.rs".to_string()][..], "tools[2]")
    );
    assert_eq!(t.user_location.as_ref().and_then(|l| l.get("city")), Some(&json!("Oslo")));
    assert!(t.user_location.as_ref().is_some_and(|l| !l.contains_key("type")));
    let r =
        sorted(Dialect::OpenAiResponses, &[("tools[4]", json!({"type": "web_search", "external_web_access": false}))]);
    assert_eq!(r.hosted_tools.len(), 1);
    let r = sorted(Dialect::Gemini, &[("tools[1].googleSearch", json!({}))]);
    assert_eq!(r.hosted_tools.len(), 1);
    let r = sorted(Dialect::OpenAiChat, &[("web_search_options", json!({}))]);
    assert_eq!(r.hosted_tools.len(), 1);
}

#[test]
fn other_hosted_tools_are_dropped_and_client_run_tools_refused() {
    let r = sorted(
        Dialect::Anthropic,
        &[
            ("tools[0]", json!({"type": "code_execution_20250825", "name": "code_execution"})),
            ("tools[1]", json!({"type": "bash_20250124", "name": "bash"})),
        ],
    );
    assert_eq!(r.dropped, ["tools[0]"]);
    assert!(r.unsupported.contains_key("tools[1]"));
    let r = sorted(
        Dialect::OpenAiResponses,
        &[
            ("tools[5]", json!({"type": "file_search", "vector_store_ids": ["vs_1"]})),
            ("tools[6]", json!({"type": "local_shell"})),
            ("input[2]", json!({"type": "web_search_call", "id": "ws_1", "status": "completed"})),
        ],
    );
    assert_eq!(r.dropped, ["input[2]", "tools[5]"]);
    assert!(r.unsupported.contains_key("tools[6]"));
    let r = sorted(Dialect::Gemini, &[("tools[0].codeExecution", json!({}))]);
    assert_eq!(r.dropped, ["tools[0].codeExecution"]);
}

fn request_with(top_k: Option<u64>) -> Request {
    Request {
        top_k,
        messages: vec![Message {
            role: Role::User,
            content: vec![Block::Text { text: "hi".into(), cache_control: None }],
        }],
        ..Request::default()
    }
}

#[test]
fn top_k_goes_only_to_providers_that_take_it() {
    let req = request_with(Some(40));
    let openai = Caps::of(Dialect::OpenAiChat);
    let f = fit(&req, Dialect::Gemini, Dialect::OpenAiChat, openai, false).expect("fits");
    assert_eq!(f.req.top_k, None);
    assert_eq!(f.dropped, ["generationConfig.topK"]);
    let vllm = Caps { top_k: true, ..openai };
    let f = fit(&req, Dialect::Gemini, Dialect::OpenAiChat, vllm, false).expect("fits");
    assert_eq!(f.req.top_k, Some(40));
    assert!(f.dropped.is_empty());
    assert!(matches!(f.req, Cow::Borrowed(_)), "nothing to take out: no clone");
}

#[test]
fn strict_refuses_the_first_drop_by_name() {
    let mut req = request_with(Some(40));
    req.dropped.push("messages[3].name".into());
    let e =
        fit(&req, Dialect::OpenAiChat, Dialect::Anthropic, Caps::of(Dialect::Anthropic), true).err().expect("refused");
    assert_eq!(e.status, 400);
    assert_eq!(e.param.as_deref(), Some("messages[3].name"));
    assert!(e.message.contains("strict"), "{}", e.message);
    assert!(
        fit(&request_with(None), Dialect::OpenAiChat, Dialect::Anthropic, Caps::of(Dialect::Anthropic), true).is_ok()
    );
}

#[test]
fn hosted_web_search_is_dropped_towards_chat() {
    let mut req = request_with(None);
    req.hosted_tools.push(HostedTool { path: "tools[4]".into(), ..HostedTool::default() });
    let f =
        fit(&req, Dialect::OpenAiResponses, Dialect::OpenAiChat, Caps::of(Dialect::OpenAiChat), false).expect("fits");
    assert!(f.req.hosted_tools.is_empty());
    assert_eq!(f.dropped, ["tools[4]"]);
    let f = fit(&req, Dialect::OpenAiResponses, Dialect::Anthropic, Caps::of(Dialect::Anthropic), false).expect("fits");
    assert_eq!(f.req.hosted_tools.len(), 1);
    assert!(f.dropped.is_empty());
}

#[test]
fn top_k_with_thinking_is_dropped_towards_anthropic() {
    let mut req = request_with(Some(40));
    req.reasoning = Some(Reasoning { enabled: true, budget_tokens: Some(2048), ..Reasoning::default() });
    let f = fit(&req, Dialect::Gemini, Dialect::Anthropic, Caps::of(Dialect::Anthropic), false).expect("fits");
    assert_eq!(f.req.top_k, None);
    assert_eq!(f.dropped, ["generationConfig.topK"]);
}

#[test]
fn bedrock_rows() {
    let r = sorted(
        Dialect::BedrockConverse,
        &[
            ("guardrailConfig", json!({"guardrailIdentifier": "g"})),
            ("additionalModelRequestFields.anthropic_beta", json!(["x"])),
            ("system[0].cachePoint", json!({"type": "default"})),
            ("toolConfig.tools[2].systemTool", json!({"name": "nova_grounding"})),
            ("promptVariables", json!({})),
            ("additionalModelRequestFields.mystery", json!(1)),
        ],
    );
    assert_eq!(r.dropped, ["additionalModelRequestFields.anthropic_beta", "guardrailConfig", "system[0].cachePoint"]);
    assert_eq!(r.hosted_tools.len(), 1, "Nova grounding is a web search");
    assert_eq!(r.unsupported.len(), 2);
    // Towards Converse: cache hints are carried, the user id and unsigned thinking are not.
    let mut req = request_with(None);
    req.user = Some("u".into());
    req.system.push(crate::ir::SystemBlock {
        text: "s".into(),
        cache_control: Some(crate::ir::CacheControl(json!({"type": "ephemeral"}))),
    });
    req.messages.push(Message {
        role: Role::Assistant,
        content: vec![Block::Thinking { thinking: "t".into(), signature: None }],
    });
    let f = fit(&req, Dialect::Anthropic, Dialect::BedrockConverse, Caps::of(Dialect::BedrockConverse), false)
        .expect("fits");
    assert_eq!(f.dropped, ["messages[].content[].thinking", "metadata.user_id"]);
}

#[test]
fn anthropic_takes_no_sampling_parameters() {
    let mut req = request_with(Some(40));
    req.temperature = Some(0.0);
    req.top_p = Some(1.0);
    let f = fit(&req, Dialect::Gemini, Dialect::Anthropic, Caps::of(Dialect::Anthropic), false).expect("fits");
    assert_eq!((f.req.temperature, f.req.top_p, f.req.top_k), (None, None, None));
    assert_eq!(f.dropped, ["generationConfig.temperature", "generationConfig.topP", "generationConfig.topK"]);
    // A provider configured to take them gets them.
    let all = Caps { temperature: true, top_p: true, top_k: true, ..Caps::of(Dialect::Anthropic) };
    let f = fit(&req, Dialect::Gemini, Dialect::Anthropic, all, false).expect("fits");
    assert_eq!((f.req.temperature, f.req.top_p, f.req.top_k), (Some(0.0), Some(1.0), Some(40)));
}

#[test]
fn validated_tool_choice_is_gemini_s_and_auto_elsewhere() {
    let mut req = request_with(None);
    req.tool_choice = Some(crate::ir::ToolChoice::Validated);
    let f = fit(&req, Dialect::OpenAiChat, Dialect::Gemini, Caps::of(Dialect::Gemini), false).expect("fits");
    assert!(f.dropped.is_empty());
    let f = fit(&req, Dialect::OpenAiChat, Dialect::Anthropic, Caps::of(Dialect::Anthropic), false).expect("fits");
    assert_eq!(f.dropped, ["tool_choice"]);
}
