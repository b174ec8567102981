//! The host's checks of what a guest hands back: `allocate`'s pointer, `run`'s packed
//! `(ptr, len)`, `set_error` and `panic` messages, all fuzzer-chosen, against the model in
//! `wasmplug_fuzz::guest`. Every call must give exactly the modelled answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmplug::{ByteSize, Isolation, Plugin};
use wasmplug_fuzz::guest::{Plan, observed};

fuzz_target!(|plan: Plan| {
    let mut limits = wasmplug_fuzz::tiny_limits(None);
    limits.max_input = ByteSize(plan.max_input());
    limits.max_output = ByteSize(u64::from(plan.max_output));
    let plugin = Plugin::builder()
        .engine(wasmplug_fuzz::engine(false))
        .limits(limits)
        .isolation(if plan.reuse {
            Isolation::Reuse
        } else {
            Isolation::PerCall
        })
        .from_bytes(plan.wat().as_bytes())
        .expect("the guest-memory module loads");
    let expected = plan.expected();
    for _ in 0..plan.calls() {
        let result = plugin.call("run", &plan.input);
        if let Err(e) = &result {
            wasmplug_fuzz::check_call_error(e);
        }
        assert_eq!(
            observed(&result).as_ref(),
            Some(&expected),
            "plan {plan:?} gave {result:?}"
        );
    }
});
