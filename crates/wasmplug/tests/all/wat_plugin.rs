//! The hand-written WAT plugin of docs/abi.md: the ABI works without any guest kit.

use wasmplug::{Error, Plugin};

use crate::support::{root, wat};

#[test]
fn docs_show_the_wat_fixture_verbatim() {
    let doc = std::fs::read_to_string(root().join("docs/abi.md")).unwrap();
    let fixture = std::fs::read_to_string(wat("echo")).unwrap();
    assert!(
        doc.contains(&format!("```wat\n{fixture}```")),
        "docs/abi.md must show tests/guests/wat/echo.wat verbatim in a ```wat block"
    );
}

#[test]
fn wat_plugin_echoes_greets_and_lists_metadata() {
    let plugin = Plugin::load(wat("echo")).unwrap();
    assert_eq!(plugin.meta().name.as_str(), "wat-echo");
    assert_eq!(plugin.meta().version.to_string(), "1.0.0");
    assert_eq!(plugin.functions(), ["echo", "greet", "fail"]);
    assert_eq!(plugin.call("echo", b"ping").unwrap(), b"ping");
    assert_eq!(plugin.call("echo", b"").unwrap(), b"");
    assert_eq!(plugin.call("greet", b"WAT").unwrap(), b"Hello, WAT!");
}

#[test]
fn wat_plugin_echoes_inputs_that_need_memory_growth() {
    let plugin = Plugin::load(wat("echo")).unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    assert_eq!(plugin.call("echo", &big).unwrap(), big);
}

#[test]
fn guest_error_value_is_typed_and_keeps_the_instance() {
    let plugin = Plugin::load(wat("echo")).unwrap();
    match plugin.call("fail", b"x").unwrap_err() {
        Error::Guest {
            function,
            message,
            code,
        } => {
            assert_eq!(function, "fail");
            assert_eq!(message, "invalid input");
            assert_eq!(code, Some(42));
        }
        other => panic!("expected Error::Guest, got {other:?}"),
    }
    // An error value is not a trap: the same plugin keeps answering.
    assert_eq!(plugin.call("echo", b"after").unwrap(), b"after");
}

#[test]
fn plugin_is_shareable_across_threads() {
    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    assert_send_sync_clone::<Plugin>();
    let plugin = Plugin::load(wat("echo")).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let plugin = plugin.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let msg = format!("t{t}-{i}");
                    assert_eq!(plugin.call("echo", msg.as_bytes()).unwrap(), msg.as_bytes());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
