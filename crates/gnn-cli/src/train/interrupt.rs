//! Ctrl-C and SIGTERM during a run: [`stop_on_signals`] turns them into a stop of burn-train's
//! [`Interrupter`], which ends the current step and leaves the last completed epoch's
//! checkpoint; a second signal ends the process at once.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::train::Interrupter;

/// The reason an [`Interrupter`] stopped by a signal carries.
pub const SIGNAL_MESSAGE: &str = "interrupted by a signal";

/// The exit status of a process ended by a second signal (128 + SIGINT, as shells report).
pub const FORCED_EXIT_CODE: i32 = 130;

/// Installs the process's handler for SIGINT (Ctrl-C), SIGTERM and SIGHUP: the first signal
/// stops `interrupter` with [`SIGNAL_MESSAGE`] (training ends after the current step) and says
/// so on stderr; the next one exits the process with [`FORCED_EXIT_CODE`] (every file is
/// written atomically, so what is on disk stays readable).
///
/// # Errors
/// When a handler is already installed in this process (it can be installed once).
pub fn stop_on_signals(interrupter: Interrupter) -> Result<(), ctrlc::Error> {
    let signals = AtomicUsize::new(0);
    ctrlc::set_handler(move || {
        if signals.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!(
                "stopping after the current step (the last completed epoch is kept); signal again to quit at once"
            );
            interrupter.stop(Some(SIGNAL_MESSAGE));
        } else {
            std::process::exit(FORCED_EXIT_CODE);
        }
    })
}

/// The process's interrupter for signals: [`stop_on_signals`] is installed on the first call;
/// every call resets it (a new run is not interrupted yet) and returns it. Where another
/// handler is already installed, signals keep their behaviour and the interrupter only stops
/// when told to.
pub fn signal_interrupter() -> Interrupter {
    static INTERRUPTER: OnceLock<Interrupter> = OnceLock::new();
    let interrupter = INTERRUPTER
        .get_or_init(|| {
            let interrupter = Interrupter::new();
            // Err: a handler is already set in this process (not ours); leave it.
            let _ = stop_on_signals(interrupter.clone());
            interrupter
        })
        .clone();
    interrupter.reset();
    interrupter
}
