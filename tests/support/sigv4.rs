//! SigV4 checks for mocks of AWS services: what arrived is signed again with the test
//! credentials at the request's own `x-amz-date` (method, path as sent, the headers the signature
//! names, the body) and compared with its `authorization`. The signer itself is checked against
//! AWS's published test vector in `amux::providers::aws`.
#![allow(dead_code)]

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// The credentials a mock expects requests to be signed with.
pub struct Expected<'a> {
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
}

/// `20250101T120000Z` -> time.
pub fn amz_date(s: &str) -> Option<SystemTime> {
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, m, d, hh, mm, ss) = (n(0, 4)?, n(4, 6)?, n(6, 8)?, n(9, 11)?, n(11, 13)?, n(13, 15)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Ok when `authorization` is the signature `want`'s credentials make for this request.
pub fn verify(method: &str, path: &str, headers: &HeaderMap, body: &[u8], want: &Expected) -> Result<(), String> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).ok_or("no authorization")?;
    let signed = auth.split("SignedHeaders=").nth(1).and_then(|s| s.split(',').next()).ok_or("no SignedHeaders")?;
    let date = headers.get("x-amz-date").and_then(|v| v.to_str().ok()).ok_or("no x-amz-date")?;
    let time = amz_date(date).ok_or("bad x-amz-date")?;
    let scope = format!("/{}/{}/aws4_request", want.region, want.service);
    if !auth.contains(&scope) {
        return Err(format!("wrong scope (want {scope}): {auth}"));
    }
    let mut mine = HeaderMap::new();
    for name in signed.split(';').filter(|n| *n != "x-amz-date" && *n != "x-amz-security-token") {
        let v = headers.get(name).ok_or(format!("signed header {name} missing"))?;
        mine.insert(http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?, v.clone());
    }
    let host = headers.get("host").and_then(|v| v.to_str().ok()).ok_or("no host")?;
    let creds = aws_credential_types::Credentials::new(
        want.access_key_id,
        want.secret,
        want.session_token.map(str::to_string),
        None,
        "test",
    );
    let uri = format!("http://{host}{path}");
    amux::providers::aws::sign_request(&creds, (want.region, want.service), time, (method, &uri), &mut mine, body)
        .map_err(|e| e.to_string())?;
    if headers.get("x-amz-security-token").and_then(|v| v.to_str().ok()) != want.session_token {
        return Err("session token missing or wrong".into());
    }
    if mine["authorization"] != auth {
        Err(format!("signature mismatch:\n  got  {auth}\n  want {:?}", mine["authorization"]))
    } else {
        Ok(())
    }
}
