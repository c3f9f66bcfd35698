//! Claude on Bedrock: the shipped table of current Claude models' Bedrock ids, and the rule that
//! turns a Claude API name into the inference profile a `bedrock` provider is called with.
//!
//! A deployment on a `bedrock` provider whose model is a Claude API name, dated
//! (`claude-sonnet-4-5-20250929`) or not (`claude-sonnet-4-5`), is called with the cross-region
//! inference profile of the provider's geography (`us.` for `us-*` regions, `eu.`, `apac.`, ...,
//! else `global.`) in front of the model's foundation id. Any other model string (a foundation
//! id, a profile, an ARN, a name this table does not know) is sent as written, so a configured
//! `model:` always overrides the table.

/// Current Claude models on Bedrock: foundation model id -> Claude API name.
pub const CLAUDE_MODELS: &[(&str, &str)] = &[
    ("anthropic.claude-opus-4-5-20251101-v1:0", "claude-opus-4-5-20251101"),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5-20250929"),
    ("anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5-20251001"),
    ("anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1-20250805"),
    ("anthropic.claude-opus-4-20250514-v1:0", "claude-opus-4-20250514"),
    ("anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4-20250514"),
    ("anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet-20250219"),
    ("anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku-20241022"),
    ("anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku-20240307"),
];

/// The cross-region inference profile prefix for a region.
pub fn geo_prefix(region: &str) -> &'static str {
    const GEOS: &[(&str, &str)] =
        &[("us-gov-", "us-gov."), ("us-", "us."), ("eu-", "eu."), ("ap-northeast-1", "jp."), ("ap-", "apac.")];
    GEOS.iter().find(|(r, _)| region.starts_with(r)).map_or("global.", |(_, p)| p)
}

/// `claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`; names without a date as they are.
fn undated(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((head, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => name,
    }
}

/// The foundation model id of a Claude API name in the table (dated or undated).
pub fn foundation_id(name: &str) -> Option<&'static str> {
    CLAUDE_MODELS.iter().find(|(_, n)| *n == name || undated(n) == name).map(|(id, _)| *id)
}

/// The model string a `bedrock` provider in `region` is called with for a configured model:
/// the inference profile for a Claude API name in the table, else the model as written.
pub fn upstream_id(model: &str, region: &str) -> String {
    match foundation_id(model) {
        Some(id) => format!("{}{id}", geo_prefix(region)),
        None => model.to_string(),
    }
}

/// Whether a string has the shape of a Bedrock model id: an ARN of a Bedrock resource, or
/// `[geo.]vendor.model` in letters, digits, `.`, `-`, `_` and `:`.
pub fn looks_like_id(model: &str) -> bool {
    if let Some(rest) = model.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        return parts.len() == 5 && parts[0].starts_with("aws") && parts[1] == "bedrock" && parts[4].contains('/');
    }
    let ok_chars = model.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    let dotted = model.split('.').filter(|s| !s.is_empty()).count() >= 2;
    ok_chars && dotted && !model.starts_with('.') && !model.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_names_map_to_the_regions_profile() {
        assert_eq!(
            upstream_id("claude-sonnet-4-5-20250929", "us-east-1"),
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        assert_eq!(upstream_id("claude-sonnet-4-5", "eu-central-1"), "eu.anthropic.claude-sonnet-4-5-20250929-v1:0");
        assert_eq!(upstream_id("claude-haiku-4-5", "ap-southeast-2"), "apac.anthropic.claude-haiku-4-5-20251001-v1:0");
        assert_eq!(upstream_id("claude-opus-4-5", "sa-east-1"), "global.anthropic.claude-opus-4-5-20251101-v1:0");
        assert_eq!(geo_prefix("us-gov-west-1"), "us-gov.");
        // Anything else is sent as written.
        for m in ["us.anthropic.claude-sonnet-4-5-20250929-v1:0", "meta.llama3-3-70b-instruct-v1:0", "claude-next"] {
            assert_eq!(upstream_id(m, "us-east-1"), m);
        }
        // `claude-opus-4` must not take `claude-opus-4-1`'s or `claude-opus-4-5`'s id.
        assert_eq!(foundation_id("claude-opus-4"), Some("anthropic.claude-opus-4-20250514-v1:0"));
    }

    #[test]
    fn id_shapes() {
        for ok in [
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
            "meta.llama3-3-70b-instruct-v1:0",
        ] {
            assert!(looks_like_id(ok), "{ok}");
        }
        for bad in ["claude-sonnet-4-5", "", "anthropic.", "a b.c", "arn:aws:s3:::bucket", "https://x.y/z"] {
            assert!(!looks_like_id(bad), "{bad}");
        }
    }
}
