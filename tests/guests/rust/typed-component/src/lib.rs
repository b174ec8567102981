//! A component plugin with typed exports of its own (wit/typed.wit) next to the
//! `wasmplug:plugin` protocol (`init`, `call` with one function, `echo`). The host's tests
//! call the typed exports with `Plugin::call_export`.

wit_bindgen::generate!({
    world: "example:typed/typed",
    // Dependencies first: the wasmplug:plugin package, then this world's.
    path: ["../../../../wit/plugin", "wit"],
    generate_all,
});

use std::cell::{Cell, RefCell};

use exports::example::typed::geometry::{self, Point};
use wasmplug::plugin::host;

thread_local! {
    static GREETING: RefCell<String> = RefCell::new(String::new());
    static CALLS: Cell<u64> = const { Cell::new(0) };
    static HELD: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

struct Typed;

impl Guest for Typed {
    fn init(config: Vec<(String, String)>) -> Result<(), PluginError> {
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload_as_str().unwrap_or("Box<dyn Any>");
            host::panic(&format!("panicked: {payload}"));
        }));
        let greeting = config
            .into_iter()
            .find(|(k, _)| k == "greeting")
            .map_or_else(|| "Hello".to_string(), |(_, v)| v);
        GREETING.with(|g| *g.borrow_mut() = greeting);
        Ok(())
    }

    fn call(function: String, input: Vec<u8>) -> Result<Vec<u8>, PluginError> {
        match function.as_str() {
            "echo" => Ok(input),
            other => Err(PluginError {
                message: format!("no function `{other}`"),
                code: None,
            }),
        }
    }

    fn add(a: i32, b: i32) -> Result<i32, String> {
        count();
        a.checked_add(b)
            .ok_or_else(|| format!("{a} + {b} overflows s32"))
    }

    fn greeting(name: String) -> String {
        count();
        GREETING.with(|g| format!("{}, {name}!", g.borrow()))
    }

    fn count() -> u64 {
        count()
    }

    fn hold(bytes: u64) -> u64 {
        count();
        let block = vec![1u8; bytes as usize];
        let kept = block.iter().map(|b| u64::from(*b)).sum();
        HELD.with(|h| h.borrow_mut().push(block));
        kept
    }

    fn spin() {
        count();
        let mut n = 0u64;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    fn crash(message: String) {
        count();
        panic!("{message}");
    }
}

/// Counts a call of this instance; returns the new count.
fn count() -> u64 {
    CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    })
}

impl geometry::Guest for Typed {
    fn distance(a: Point, b: Point) -> f64 {
        ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
    }

    fn centroid(points: Vec<Point>) -> Option<Point> {
        if points.is_empty() {
            return None;
        }
        let n = points.len() as f64;
        let (x, y) = points
            .iter()
            .fold((0.0, 0.0), |(x, y), p| (x + p.x, y + p.y));
        Some(Point { x: x / n, y: y / n })
    }
}

export!(Typed);
