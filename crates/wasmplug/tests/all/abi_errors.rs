//! Modules that are not valid plugins are refused at load time, each with its own error.

use wasmplug::{ByteSize, Error, Limits, Plugin};

use crate::support::wat;

fn echo_wasm() -> Vec<u8> {
    wat::parse_file(wat("echo")).unwrap()
}

#[test]
fn bad_magic_bytes_are_invalid_wasm_in_the_header() {
    let err = Plugin::builder()
        .from_bytes(b"\x7fELF\x02\x01\x01\0garbage")
        .unwrap_err();
    match &err {
        Error::InvalidWasm {
            section,
            offset,
            message,
        } => {
            assert_eq!(section.as_deref(), Some("header"));
            assert_eq!(*offset, Some(0));
            assert!(message.contains("magic"), "{message}");
        }
        other => panic!("expected InvalidWasm, got {other:?}"),
    }
    assert!(
        err.to_string().contains("rebuild the plugin"),
        "message says what to do: {err}"
    );
}

#[test]
fn truncated_module_is_invalid_wasm_naming_the_section() {
    let bytes = echo_wasm();
    for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 3] {
        match Plugin::builder().from_bytes(&bytes[..cut]).unwrap_err() {
            Error::InvalidWasm {
                section, offset, ..
            } => {
                assert!(section.is_some(), "cut at {cut}: section named");
                assert!(offset.is_some());
            }
            other => panic!("cut at {cut}: expected InvalidWasm, got {other:?}"),
        }
    }
}

#[test]
fn invalid_code_is_a_validation_error_in_the_code_section() {
    // `wat` would refuse to assemble an ill-typed body, so the module is written by hand:
    // (func (result i32) i64.const 1 end)
    let module: &[u8] = &[
        0, b'a', b's', b'm', 1, 0, 0, 0, // header
        1, 5, 1, 0x60, 0, 1, 0x7f, // type section: () -> i32
        3, 2, 1, 0, // function section
        10, 6, 1, 4, 0, 0x42, 1, 0x0b, // code: i64.const 1; end
    ];
    match Plugin::builder().from_bytes(module).unwrap_err() {
        Error::InvalidWasm {
            section, message, ..
        } => {
            assert_eq!(section.as_deref(), Some("code"), "{message}");
            assert!(message.contains("type mismatch"), "{message}");
        }
        other => panic!("expected InvalidWasm, got {other:?}"),
    }
}

#[test]
fn missing_allocate_export_is_named() {
    match Plugin::load(wat("no-allocate")).unwrap_err() {
        Error::MissingExport { name, expected } => {
            assert_eq!(name, "allocate");
            assert_eq!(expected, "func (i32) -> i32");
        }
        other => panic!("expected MissingExport, got {other:?}"),
    }
}

#[test]
fn abi_version_from_the_future_is_refused() {
    let err = Plugin::load(wat("future-abi")).unwrap_err();
    match &err {
        Error::AbiVersionMismatch { found, supported } => {
            assert_eq!(*found, 2);
            assert_eq!(*supported, 1..=1);
        }
        other => panic!("expected AbiVersionMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains("1..=1"), "{err}");
}

#[test]
fn module_without_abi_section_is_not_a_plugin() {
    let err = Plugin::builder()
        .from_bytes(br#"(module (memory (export "memory") 1))"#)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("wasmplug.abi")),
        "{err:?}"
    );
}

#[test]
fn wrong_export_signature_is_reported_with_both_types() {
    let text = std::fs::read_to_string(wat("no-allocate"))
        .unwrap()
        .replace(
            "(func (export \"deallocate\")",
            "(func (export \"allocate\") (param i64) (result i32) (i32.const 0))\n  (func (export \"deallocate\")",
        );
    match Plugin::builder().from_bytes(text.as_bytes()).unwrap_err() {
        Error::ExportType {
            name,
            expected,
            found,
        } => {
            assert_eq!(name, "allocate");
            assert_eq!(expected, "func (i32) -> i32");
            assert_eq!(found, "func (i64) -> i32");
        }
        other => panic!("expected ExportType, got {other:?}"),
    }
}

#[test]
fn unknown_import_is_refused_by_name() {
    let text = std::fs::read_to_string(wat("echo")).unwrap().replace(
        "(memory (export",
        "(import \"env\" \"system\" (func (param i32)))\n  (memory (export",
    );
    let err = Plugin::builder().from_bytes(text.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("`env::system`")),
        "{err:?}"
    );
}

#[test]
fn reserved_or_unlisted_function_names_are_refused() {
    let text = std::fs::read_to_string(wat("echo"))
        .unwrap()
        .replace("\"echo\\ngreet\\nfail\\n\"", "\"echo\\nallocate\\n\"");
    let err = Plugin::builder().from_bytes(text.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("reserved")),
        "{err:?}"
    );
    let text = std::fs::read_to_string(wat("echo"))
        .unwrap()
        .replace("\"echo\\ngreet\\nfail\\n\"", "\"echo\\nmissing\\n\"");
    let err = Plugin::builder().from_bytes(text.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, Error::MissingExport { name, .. } if name == "missing"),
        "{err:?}"
    );
}

#[test]
fn module_over_max_module_size_is_refused_before_compiling() {
    let bytes = echo_wasm();
    let limits = Limits {
        max_module_size: ByteSize(bytes.len() as u64 - 1),
        ..Limits::default()
    };
    let err = Plugin::builder()
        .limits(limits.clone())
        .from_bytes(&bytes)
        .unwrap_err();
    assert!(
        matches!(err, Error::ModuleTooLarge { size, limit } if size == bytes.len() as u64 && limit == size - 1)
    );
    let obeyed = Limits {
        max_module_size: ByteSize(bytes.len() as u64),
        ..limits
    };
    assert!(Plugin::builder().limits(obeyed).from_bytes(&bytes).is_ok());
}

#[test]
fn missing_file_is_file_not_found() {
    let err = Plugin::load("/definitely/not/here.wasm").unwrap_err();
    assert!(
        matches!(&err, Error::FileNotFound { path } if path.ends_with("here.wasm")),
        "{err:?}"
    );
    assert!(err.is_load_error());
}
