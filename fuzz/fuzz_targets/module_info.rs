//! `ModuleInfo::parse` and the ABI check (`PluginInterface::check`) on modules: raw bytes
//! (first byte even) or a wasm-smith plugin with fuzzer-chosen custom sections (odd).
//! Either a typed error or facts consistent with the bytes.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wasmplug::abi::{SECTION_ABI, SECTION_FUNCTIONS, SECTION_META};
use wasmplug::{Error, ModuleInfo, PluginInterface};
use wasmplug_fuzz::smith;

/// Custom section names worth choosing among.
#[derive(Debug, Arbitrary)]
enum Name {
    Abi,
    Meta,
    Functions,
    Other(String),
}

fn module(data: &[u8]) -> arbitrary::Result<Vec<u8>> {
    let Some((mode, rest)) = data.split_first() else {
        return Ok(Vec::new());
    };
    if mode % 2 == 0 {
        return Ok(rest.to_vec());
    }
    let mut u = Unstructured::new(rest);
    let config = smith::config(&mut u)?;
    let mut bytes = wasm_smith::Module::new(config, &mut u)?.to_bytes();
    let sections: Vec<(Name, Vec<u8>)> = u.arbitrary()?;
    for (name, payload) in sections.iter().take(8) {
        let name = match name {
            Name::Abi => SECTION_ABI,
            Name::Meta => SECTION_META,
            Name::Functions => SECTION_FUNCTIONS,
            Name::Other(s) => s,
        };
        smith::append_custom(&mut bytes, name, payload);
    }
    Ok(bytes)
}

fuzz_target!(|data: &[u8]| {
    let Ok(bytes) = module(data) else { return };
    let info = match ModuleInfo::parse(&bytes) {
        Ok(info) => info,
        Err(e) => {
            assert!(
                matches!(e, Error::InvalidWasm { .. } | Error::InvalidPlugin { .. }),
                "unexpected parse error {e:?}"
            );
            wasmplug_fuzz::check_load_error(&e);
            return;
        }
    };
    assert_eq!(info.size, bytes.len() as u64);
    for (name, size) in &info.custom_sections {
        assert!(
            *size <= bytes.len(),
            "custom section `{name}` larger than the module"
        );
    }
    serde_json::to_string(&info).expect("module info serialises (inspect --json)");
    match PluginInterface::check(&info, &bytes) {
        Err(e) => wasmplug_fuzz::check_load_error(&e),
        Ok(interface) => {
            assert_eq!(interface.functions.len(), interface.function_exports.len());
            for (f, export) in interface.functions.iter().zip(&interface.function_exports) {
                assert!(export == f || export == &format!("wasmplug:{f}"));
                assert!(
                    info.exports.iter().any(|e| &e.name == export),
                    "function `{f}` has no export `{export}`"
                );
            }
        }
    }
});
