//! A spinner with elapsed time on stderr while something slow (compiling a large module)
//! runs. Shown only when stderr is a terminal and the work takes longer than a moment.

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long work may take before the spinner appears.
const GRACE: Duration = Duration::from_millis(300);
const FRAMES: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Runs `work`, showing `label` with a spinner and the elapsed time if it is slow.
pub fn with_spinner<T>(label: &str, work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let (done, finished) = mpsc::channel::<()>();
    let label = label.to_string();
    let spinner = std::thread::spawn(move || {
        let start = Instant::now();
        if finished.recv_timeout(GRACE).is_ok() {
            return;
        }
        let mut shown = false;
        for frame in FRAMES.iter().cycle() {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r{frame} {label} {:.1}s",
                start.elapsed().as_secs_f64()
            );
            let _ = err.flush();
            drop(err);
            shown = true;
            if finished.recv_timeout(Duration::from_millis(100)).is_ok() {
                break;
            }
        }
        if shown {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    });
    let out = work();
    let _ = done.send(());
    let _ = spinner.join();
    out
}
