//! The cloud parts of a provider's config: a `bedrock` provider's AWS side (region, static keys,
//! profile, role), a `vertex` provider's Google side (project, location, token source), and the
//! clouds the zero-config start discovers from their own environment variables. Every other kind
//! may not set these fields: each one set is an error naming it.

use std::sync::Arc;

use super::aws::{AwsAuth, StaticKeys};
use super::gcp::{self, GcpAuth};
use super::presets::Preset;
use super::registry::{Provider, err, expand_env};
use super::secret::Secret;
use super::vertex::{self, Site};
use crate::config::{ConfigError, ProviderConfig, ProviderKind};

/// The errors for cloud fields set on a provider of another kind (`fields`: name, whether set).
pub(super) fn foreign_fields(path: &str, fields: &[(&str, bool)], kinds: &str) -> Vec<ConfigError> {
    fields
        .iter()
        .filter(|(_, set)| *set)
        .map(|(f, _)| err(format!("{path}.{f}"), format!("only applies to kind: {kinds}")))
        .collect()
}

/// A `vertex` provider's token source and site.
pub(super) type VertexSide = (Option<Arc<GcpAuth>>, Option<Site>);

/// A `vertex` provider's Google side: where tokens come from, project and location; `(None,
/// None)` for every other kind, which may not set these fields.
pub(super) fn vertex_side(
    path: &str,
    pc: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<VertexSide, Vec<ConfigError>> {
    let fields = [
        ("project", pc.project.is_some()),
        ("location", pc.location.is_some()),
        ("credentials_file", pc.credentials_file.is_some()),
    ];
    if pc.kind != ProviderKind::Vertex {
        let errors = foreign_fields(path, &fields, "vertex");
        return if errors.is_empty() { Ok((None, None)) } else { Err(errors) };
    }
    let mut errors = Vec::new();
    let mut expand = |field: &str, v: &Option<String>| -> Option<String> {
        let v = v.as_ref()?;
        expand_env(v, env).map_err(|e| errors.push(err(format!("{path}.{field}"), e))).ok()
    };
    let project = expand("project", &pc.project).or_else(|| vertex_project(env));
    let location = expand("location", &pc.location).or_else(|| vertex_location(env));
    let file = expand("credentials_file", &pc.credentials_file);
    let Some(project) = project else {
        errors.push(err(format!("{path}.project"), "required for vertex (or set GOOGLE_CLOUD_PROJECT)"));
        return Err(errors);
    };
    let location = location.unwrap_or_else(|| "global".into());
    for (f, v) in [("project", &project), ("location", &location)] {
        if let Err(e) = vertex::check_segment(f, v) {
            errors.push(err(format!("{path}.{f}"), e));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let source = gcp_source(file, env);
    Ok((Some(Arc::new(GcpAuth::new(source))), Some(Site { project, location })))
}

pub(super) fn vertex_project(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    ["GOOGLE_CLOUD_PROJECT", "ANTHROPIC_VERTEX_PROJECT_ID", "CLOUDSDK_CORE_PROJECT"]
        .iter()
        .find_map(|v| env(v).filter(|s| !s.is_empty()))
}

pub(super) fn vertex_location(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    ["GOOGLE_CLOUD_LOCATION", "CLOUD_ML_REGION"].iter().find_map(|v| env(v).filter(|s| !s.is_empty()))
}

pub(super) fn gcp_source(file: Option<String>, env: &dyn Fn(&str) -> Option<String>) -> gcp::Source {
    match (file, env("GCE_METADATA_HOST").filter(|s| !s.is_empty())) {
        (Some(f), _) => gcp::Source::KeyFile(f),
        (None, Some(host)) => gcp::Source::Metadata(host),
        (None, None) => gcp::Source::Adc,
    }
}

/// `bedrock` from AWS_REGION with AWS credentials in the environment (keys, a profile, web
/// identity, container credentials, or a Bedrock API key), `vertex` from GOOGLE_CLOUD_PROJECT
/// (with GOOGLE_CLOUD_LOCATION or CLOUD_ML_REGION, else `global`) and Application Default
/// Credentials: what the zero-config start finds.
pub(super) fn cloud_from_env(preset: &'static Preset, env: &dyn Fn(&str) -> Option<String>) -> Option<Provider> {
    let set = |v: &str| env(v).is_some_and(|s| !s.is_empty());
    let (aws, gcp, site, base, key, region) = match preset.kind {
        ProviderKind::Bedrock => {
            let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).filter(|s| !s.is_empty())?;
            let key = env("AWS_BEARER_TOKEN_BEDROCK").filter(|s| !s.is_empty());
            let creds = [
                "AWS_ACCESS_KEY_ID",
                "AWS_PROFILE",
                "AWS_WEB_IDENTITY_TOKEN_FILE",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            ]
            .iter()
            .any(|v| set(v));
            if key.is_none() && !creds {
                return None;
            }
            let base = format!("https://bedrock-runtime.{region}.amazonaws.com");
            let aws = key.is_none().then(|| Arc::new(AwsAuth::new(region.clone(), env("AWS_PROFILE"), None)));
            (aws, None, None, base, key, Some(region))
        }
        ProviderKind::Vertex => {
            let project = vertex_project(env)?;
            let location = vertex_location(env).unwrap_or_else(|| "global".into());
            vertex::check_segment("project", &project).ok()?;
            vertex::check_segment("location", &location).ok()?;
            let site = Site { project, location };
            let file = env("GOOGLE_APPLICATION_CREDENTIALS").filter(|s| !s.is_empty());
            let gcp = Arc::new(GcpAuth::new(gcp_source(file, env)));
            (None, Some(gcp), Some(site.clone()), site.default_base(), None, None)
        }
        _ => return None,
    };
    Some(Provider { aws, region, gcp, vertex: site, ..Provider::discovered(preset, base, key) })
}

/// A `bedrock` provider's SigV4 identity (none when an API key is set), default base URL and
/// region.
pub(super) type BedrockSide = (Option<Arc<AwsAuth>>, Option<String>, Option<String>);

/// A `bedrock` provider's AWS side; `(None, None)` for every other kind, which may not set the
/// AWS fields.
pub(super) fn bedrock_auth(
    path: &str,
    pc: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BedrockSide, Vec<ConfigError>> {
    let aws_fields = [
        ("region", pc.region.is_some()),
        ("aws_profile", pc.aws_profile.is_some()),
        ("aws_access_key_id", pc.aws_access_key_id.is_some()),
        ("aws_secret_access_key", pc.aws_secret_access_key.is_some()),
        ("aws_session_token", pc.aws_session_token.is_some()),
        ("aws_role_arn", pc.aws_role_arn.is_some()),
    ];
    if pc.kind != ProviderKind::Bedrock {
        let errors = foreign_fields(path, &aws_fields, "bedrock");
        return if errors.is_empty() { Ok((None, None, None)) } else { Err(errors) };
    }
    let mut errors = Vec::new();
    let mut expand = |field: &str, v: &Option<String>| -> Option<String> {
        let v = v.as_ref()?;
        expand_env(v, env).map_err(|e| errors.push(err(format!("{path}.{field}"), e))).ok()
    };
    let region = expand("region", &pc.region)
        .or_else(|| env("AWS_REGION").filter(|s| !s.is_empty()))
        .or_else(|| env("AWS_DEFAULT_REGION").filter(|s| !s.is_empty()));
    let id = expand("aws_access_key_id", &pc.aws_access_key_id);
    let secret = expand("aws_secret_access_key", &pc.aws_secret_access_key);
    let token = expand("aws_session_token", &pc.aws_session_token);
    let profile = expand("aws_profile", &pc.aws_profile);
    let role_arn = expand("aws_role_arn", &pc.aws_role_arn);
    let Some(region) = region else {
        errors.push(err(format!("{path}.region"), "required for bedrock (or set AWS_REGION)"));
        return Err(errors);
    };
    if !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        errors.push(err(format!("{path}.region"), format!("\"{region}\" is not an AWS region")));
    }
    let keys = match (id, secret) {
        (Some(access_key_id), Some(s)) => {
            Some(StaticKeys { access_key_id, secret_access_key: Secret::new(s), session_token: token.map(Secret::new) })
        }
        (None, None) => None,
        _ => {
            errors.push(err(path, "set both aws_access_key_id and aws_secret_access_key, or neither"));
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let base = format!("https://bedrock-runtime.{region}.amazonaws.com");
    // A Bedrock API key (config, or AWS_BEARER_TOKEN_BEDROCK as the SDKs read it) is used as is.
    let has_api_key = pc.api_key.is_some()
        || pc.api_key_file.is_some()
        || env("AWS_BEARER_TOKEN_BEDROCK").is_some_and(|t| !t.is_empty());
    let auth = (!has_api_key).then(|| Arc::new(AwsAuth::new(region.clone(), profile, keys).assuming(role_arn)));
    Ok((auth, Some(base), Some(region)))
}
