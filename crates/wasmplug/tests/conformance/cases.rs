//! The table: what every language's build of the examples must do, byte for byte. The
//! Rust examples are the reference; each case is one plugin load (with its own in-memory
//! key-value store, optionally seeded) and a sequence of calls.

/// An input.
#[derive(Debug)]
pub enum Input {
    /// UTF-8 text.
    Text(&'static str),
    /// Raw bytes.
    Bytes(&'static [u8]),
    /// `n` bytes of a fixed non-text pattern (`i % 251`).
    Pattern(usize),
}

/// What a call must give.
#[derive(Debug)]
pub enum Expect {
    /// Exactly these bytes.
    Output(&'static str),
    /// The input bytes back.
    SameAsInput,
    /// An error value with this code whose message starts with this text.
    GuestError { code: i32, message: &'static str },
    /// An error value with this code whose message contains this text (a host's message
    /// passed on).
    GuestErrorContaining { code: i32, message: &'static str },
    /// A trap of kind `Panic` whose message contains this text.
    Panic(&'static str),
    /// The json-transformer's `{"success":false,"data":null,"error":"..."}` (the parse
    /// error's wording is each JSON parser's own).
    JsonFailure,
}

/// One case: an example loaded with `config` and a kv store holding `kv`, then `steps`.
pub struct Case {
    pub example: &'static str,
    pub name: &'static str,
    pub config: &'static [(&'static str, &'static str)],
    pub kv: &'static [(&'static str, &'static str)],
    pub steps: &'static [(&'static str, Input, Expect)],
}

use Expect::*;
use Input::*;

const MIB: usize = 1024 * 1024;

const fn case(
    example: &'static str,
    name: &'static str,
    steps: &'static [(&'static str, Input, Expect)],
) -> Case {
    Case {
        example,
        name,
        config: &[],
        kv: &[],
        steps,
    }
}

/// Every case, for every language.
pub const CASES: &[Case] = &[
    // echo: bytes in, bytes out.
    case(
        "echo",
        "echo returns text",
        &[("echo", Text("hello"), Output("hello"))],
    ),
    case(
        "echo",
        "empty input",
        &[
            ("echo", Text(""), Output("")),
            ("len", Text(""), Output("0")),
        ],
    ),
    case(
        "echo",
        "1 MiB input",
        &[
            ("echo", Pattern(MIB), SameAsInput),
            ("len", Pattern(MIB), Output("1048576")),
        ],
    ),
    case(
        "echo",
        "invalid UTF-8 and NUL bytes pass through",
        &[(
            "echo",
            Bytes(&[0xff, 0xfe, 0x00, 0x80, b'a', 0x00]),
            SameAsInput,
        )],
    ),
    case(
        "echo",
        "noop ignores its input",
        &[("noop", Text("ignored"), Output(""))],
    ),
    case(
        "echo",
        "len counts bytes",
        &[
            ("len", Text("hello"), Output("5")),
            ("len", Text("é"), Output("2")),
        ],
    ),
    case(
        "echo",
        "a panic is a trap with its text, and the next call works",
        &[
            ("panic", Text("boom"), Panic("boom")),
            ("echo", Text("still here"), Output("still here")),
            ("panic", Text("again"), Panic("again")),
        ],
    ),
    case(
        "echo",
        "many calls on one plugin",
        &[
            ("echo", Text("1"), Output("1")),
            ("len", Text("22"), Output("2")),
            ("echo", Pattern(4096), SameAsInput),
            ("noop", Text(""), Output("")),
            ("echo", Text("3"), Output("3")),
        ],
    ),
    // greet: text, config, error values with codes.
    case(
        "greet",
        "greets",
        &[("greet", Text("world"), Output("Hello, world!"))],
    ),
    case(
        "greet",
        "trims whitespace",
        &[("greet", Text("  world \n"), Output("Hello, world!"))],
    ),
    case(
        "greet",
        "keeps UTF-8",
        &[("greet", Text("Zoë 日本"), Output("Hello, Zoë 日本!"))],
    ),
    case(
        "greet",
        "an empty name is error value 1",
        &[
            (
                "greet",
                Text(""),
                GuestError {
                    code: 1,
                    message: "name must not be empty",
                },
            ),
            (
                "greet",
                Text(" \t\n"),
                GuestError {
                    code: 1,
                    message: "name must not be empty",
                },
            ),
            ("greet", Text("after"), Output("Hello, after!")),
        ],
    ),
    case(
        "greet",
        "invalid UTF-8 is an error value",
        &[(
            "greet",
            Bytes(&[b'a', 0xff]),
            GuestError {
                code: 0,
                message: "input is not valid UTF-8",
            },
        )],
    ),
    Case {
        example: "greet",
        name: "reads its config",
        config: &[("greeting", "Bonjour")],
        kv: &[],
        steps: &[("greet", Text("monde"), Output("Bonjour, monde!"))],
    },
    // json-transformer: the documents' plugin, exactly the Rust example's output.
    case(
        "json-transformer",
        "tags the parameters in order",
        &[(
            "execute",
            Text(r#"{"request_id":"r1","headers":{"x":"y"},"parameters":{"b":1,"a":[true]}}"#),
            Output(
                r#"{"success":true,"data":{"b":1,"a":[true],"_request_id":"r1","_processed":true}}"#,
            ),
        )],
    ),
    case(
        "json-transformer",
        "without parameters",
        &[(
            "execute",
            Text(r#"{"request_id":"r2"}"#),
            Output(r#"{"success":true,"data":{"_request_id":"r2","_processed":true}}"#),
        )],
    ),
    case(
        "json-transformer",
        "pretty input, compact output",
        &[(
            "execute",
            Text(
                "{\n  \"request_id\": \"r4\",\n  \"parameters\": {\n    \"b\": 1,\n    \"a\": [ true, \"x\" ]\n  }\n}\n",
            ),
            Output(
                r#"{"success":true,"data":{"b":1,"a":[true,"x"],"_request_id":"r4","_processed":true}}"#,
            ),
        )],
    ),
    case(
        "json-transformer",
        "every kind of value, escapes as serde_json writes them",
        &[(
            "execute",
            Text(
                r#"{"request_id":"r\"3","headers":{"a":"b"},"extra":[1,{"x":null}],"parameters":{"s":"tab\there \u00e9 \"q\" \\ \/ \u0001 \ud83d\ude00","n":-2.5,"big":12345678901234,"z":null,"t":true,"f":false,"e":[],"o":{"k":[1,{"x":false}],"":{}}}}"#,
            ),
            Output(
                r#"{"success":true,"data":{"s":"tab\there é \"q\" \\ / \u0001 😀","n":-2.5,"big":12345678901234,"z":null,"t":true,"f":false,"e":[],"o":{"k":[1,{"x":false}],"":{}},"_request_id":"r\"3","_processed":true}}"#,
            ),
        )],
    ),
    case(
        "json-transformer",
        "an existing _request_id is replaced in place",
        &[(
            "execute",
            Text(r#"{"request_id":"r5","parameters":{"_request_id":"old","z":0}}"#),
            Output(r#"{"success":true,"data":{"_request_id":"r5","z":0,"_processed":true}}"#),
        )],
    ),
    case(
        "json-transformer",
        "bad input is success:false, not an error",
        &[
            ("execute", Text("{"), JsonFailure),
            ("execute", Text(""), JsonFailure),
            ("execute", Text(r#"{"parameters":{}}"#), JsonFailure),
            ("execute", Text(r#"{"request_id":7}"#), JsonFailure),
            (
                "execute",
                Text(r#"{"request_id":"r","parameters":[1]}"#),
                JsonFailure,
            ),
            ("execute", Text(r#"{"request_id":"r"} x"#), JsonFailure),
            ("execute", Bytes(b"{\"request_id\":\"\xff\"}"), JsonFailure),
            (
                "execute",
                Text(r#"{"request_id":"r6"}"#),
                Output(r#"{"success":true,"data":{"_request_id":"r6","_processed":true}}"#),
            ),
        ],
    ),
    // counter: the kv host functions.
    case(
        "counter",
        "kv round trip",
        &[
            ("get", Text(""), Output("0")),
            ("increment", Text(""), Output("1")),
            ("increment", Text(""), Output("2")),
            ("increment", Text("visits"), Output("1")),
            ("get", Text(""), Output("2")),
            ("reset", Text(""), Output("")),
            ("get", Text(""), Output("0")),
            ("get", Text("visits"), Output("1")),
            ("reset", Text("never-set"), Output("")),
        ],
    ),
    Case {
        example: "counter",
        name: "reads values other languages wrote",
        config: &[],
        kv: &[("counter/shared", "41"), ("counter/bad", "forty-two")],
        steps: &[
            ("increment", Text("shared"), Output("42")),
            (
                "get",
                Text("bad"),
                GuestError {
                    code: 3,
                    message: "`counter/bad` holds",
                },
            ),
        ],
    },
    case(
        "counter",
        "a host-function error value is passed on",
        &[
            (
                "increment",
                Text(KEY_OVER_QUOTA),
                GuestErrorContaining {
                    code: 2,
                    message: "over the kv key limit of 1024 bytes",
                },
            ),
            ("increment", Text("fine"), Output("1")),
        ],
    ),
    case(
        "counter",
        "invalid UTF-8 names are refused",
        &[(
            "increment",
            Bytes(&[0xc3]),
            GuestError {
                code: 0,
                message: "input is not valid UTF-8",
            },
        )],
    ),
];

/// A counter name whose kv key (`counter/` + name) is over the default 1 KiB key quota.
const KEY_OVER_QUOTA: &str = concat!(
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxx",
);
