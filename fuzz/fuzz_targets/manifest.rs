//! `Manifest::parse` on arbitrary text: an error message or a manifest whose limits
//! survive a serialise/parse round trip and whose instance policy is valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmplug::{Limits, Manifest};

fuzz_target!(|text: &str| {
    match Manifest::parse(text) {
        Err(message) => assert!(!message.is_empty(), "empty manifest error for {text:?}"),
        Ok(manifest) => {
            manifest
                .instances
                .validate()
                .expect("parse validated the policy");
            let json = serde_json::to_string(&manifest.limits).expect("limits serialise");
            let back: Limits = serde_json::from_str(&json).expect("serialised limits parse back");
            assert_eq!(back, manifest.limits, "limits round trip through {json}");
        }
    }
});
