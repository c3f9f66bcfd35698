//! Config loading: arbitrary text (YAML or JSON) never panics the parser or the checks after it,
//! and a config that parses also builds its provider registry without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cfg) = amux::config::parse_str(text) {
        let _ = amux::providers::Registry::build(&cfg, &|_| Some("x".to_string()));
    }
});
