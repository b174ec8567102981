//! `GatewayConfig::parse` (`wasmplug.toml`) on arbitrary text: an error message naming
//! the problem, or a configuration whose per-plugin lookups work.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmplug_gateway::GatewayConfig;

fuzz_target!(|text: &str| {
    match GatewayConfig::parse(text) {
        Err(message) => assert!(!message.is_empty(), "empty config error for {text:?}"),
        Ok(config) => {
            for (name, settings) in &config.plugins {
                assert_eq!(config.plugin(name).envelope, settings.envelope);
            }
            assert!(!config.plugin("\u{0}not-configured").envelope);
        }
    }
});
