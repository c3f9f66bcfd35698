//! Non-model surfaces: models list in both shapes, health, root, unknown routes.

use crate::support::*;

#[tokio::test]
async fn models_list_in_openai_and_anthropic_shapes() {
    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, "")).await;
    let o = get(gw.addr, "/v1/models", &[]).await.json();
    assert_eq!(o["object"], "list");
    let ids: Vec<&str> = o["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["claude-test", "gpt-test"]);
    assert_eq!(o["data"][0]["owned_by"], "anth");
    let a = get(gw.addr, "/v1/models", &[("anthropic-version", "2023-06-01")]).await.json();
    assert_eq!(a["data"][1]["type"], "model");
    assert_eq!(a["has_more"], false);
    assert_eq!(a["first_id"], "claude-test");
    let one = get(gw.addr, "/v1/models/anth/some-model", &[]).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["id"], "anth/some-model");
    assert_eq!(get(gw.addr, "/v1/models/unknown", &[]).await.status, 404);
}

#[tokio::test]
async fn health_root_and_unknown_routes() {
    let mock = Mock::start().await;
    let gw = start_gateway(&mock_config(&mock, "")).await;
    assert_eq!(get(gw.addr, "/health/liveness", &[]).await.status, 200);
    let r = get(gw.addr, "/health/readiness", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["providers"], 2);
    assert_eq!(get(gw.addr, "/", &[]).await.status, 200);
    let n = get(gw.addr, "/v2/nothing", &[]).await;
    assert_eq!(n.status, 404);
    assert!(n.json()["error"]["message"].as_str().unwrap().contains("/v2/nothing"));
}
