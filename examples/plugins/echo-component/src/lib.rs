//! The `echo` example as a component of the `wasmplug:plugin` world (wit/plugin): `echo`,
//! `noop`, `len` and `panic`, as `examples/plugins/echo`. Its panic hook reports the message
//! through `host.panic`, so a panic is `Error::Trap` of kind `panic` with the message.

wit_bindgen::generate!({ world: "plugin", path: "../../../wit/plugin" });

use wasmplug::plugin::host;

struct Echo;

impl Guest for Echo {
    fn init(_config: Vec<(String, String)>) -> Result<(), PluginError> {
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload_as_str().unwrap_or("Box<dyn Any>");
            host::panic(&format!("panicked: {payload}"));
        }));
        Ok(())
    }

    fn call(function: String, input: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        match function.as_str() {
            "echo" => Ok(input),
            "noop" => Ok(Vec::new()),
            "len" => Ok(input.len().to_string().into_bytes()),
            "panic" => panic!("{}", String::from_utf8_lossy(&input)),
            other => Err(PluginError {
                message: format!("no function `{other}`"),
                code: None,
            }),
        }
    }
}

export!(Echo);
