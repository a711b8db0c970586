//! Bounded fuzzing: property tests over arbitrary inputs, with a case count and a seed taken
//! from the environment, and a watchdog that turns a hang into a failure naming the input.
//!
//! A fuzz test states what must hold for *every* input at a boundary of the library: no panic,
//! no hang, and either `Ok` with a consistent value or a typed error. It is an ordinary
//! `#[test]` built on [`fuzz`], kept beside the code it tests in a module named `fuzz` (so
//! `cargo test -- fuzz` runs them all), and runs about a thousand inputs by default;
//! [`FUZZ_CASES`] raises the count (CI runs them with more), [`FUZZ_SEED`] changes the inputs.
//!
//! Each run prints one line to stderr (shown with `--nocapture`):
//! `[fuzz] NAME: N inputs (A accepted, R rejected with a typed error) in S s, seed X`.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

/// Environment variable: inputs per fuzz test, replacing each test's default.
pub const FUZZ_CASES: &str = "FUZZ_CASES";
/// Environment variable: the seed of the input generator (default [`DEFAULT_SEED`]), so that a
/// run is reproducible and another seed explores other inputs.
pub const FUZZ_SEED: &str = "FUZZ_SEED";
/// The seed used when [`FUZZ_SEED`] is not set.
pub const DEFAULT_SEED: u64 = 2026;
/// How long one input may run before the watchdog calls it a hang.
pub const CASE_TIME_LIMIT: Duration = Duration::from_secs(30);

/// What the code under test made of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `Ok`, and the value passed the property's consistency checks.
    Accepted,
    /// A typed error.
    Rejected,
}

impl Outcome {
    /// [`Outcome::Accepted`] for `Ok`, [`Outcome::Rejected`] for `Err`.
    pub fn of<T, E>(result: &Result<T, E>) -> Self {
        match result {
            Ok(_) => Outcome::Accepted,
            Err(_) => Outcome::Rejected,
        }
    }
}

/// What one fuzz test ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuzzReport {
    /// Inputs run.
    pub inputs: usize,
    /// Inputs that gave a consistent `Ok`.
    pub accepted: usize,
    /// Inputs that gave a typed error.
    pub rejected: usize,
}

/// The input running now, and since when (the watchdog's view of the worker).
type Current<V> = Option<(Instant, V)>;

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a non-negative integer")),
    )
}

/// Inputs per fuzz test: [`FUZZ_CASES`] when set, else `default`.
///
/// # Panics
/// When [`FUZZ_CASES`] is set but is not a number.
pub fn fuzz_cases(default: u32) -> u32 {
    env_number(FUZZ_CASES).map_or(default, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Runs `property` on [`fuzz_cases`]`(default_cases)` inputs drawn from `strategy`, and prints
/// what it ran.
///
/// The property returns the input's [`Outcome`], or fails (a `prop_assert!`) when a value is
/// inconsistent. The inputs run on a worker thread: a panic in the code under test fails the
/// test with the smallest input proptest shrinks it to, and an input that runs longer than
/// [`CASE_TIME_LIMIT`] fails it as a hang, naming that input.
///
/// # Panics
/// When the property fails, panics or hangs on some input (this is how the test fails).
#[track_caller]
pub fn fuzz<S>(
    name: &str,
    default_cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<Outcome, TestCaseError> + Send + 'static,
) -> FuzzReport
where
    S: Strategy + Send + 'static,
    S::Value: Clone + Send + 'static,
{
    let cases = fuzz_cases(default_cases);
    let seed = env_number(FUZZ_SEED).unwrap_or(DEFAULT_SEED);
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    };
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let current: Arc<Mutex<Current<S::Value>>> = Arc::new(Mutex::new(None));
    let (done, finished) = mpsc::channel();
    let start = Instant::now();
    {
        let (counts, current) = (Arc::clone(&counts), Arc::clone(&current));
        std::thread::spawn(move || {
            let result = TestRunner::new(config).run(&strategy, |input| {
                *current.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((Instant::now(), input.clone()));
                let outcome = property(input)?;
                counts[usize::from(outcome == Outcome::Rejected)].fetch_add(1, Ordering::Relaxed);
                Ok(())
            });
            // The receiver is gone only when the test already failed as a hang.
            let _ = done.send(result.map_err(|error| match error {
                TestError::Abort(reason) => format!("aborted: {reason}"),
                TestError::Fail(reason, input) => {
                    format!("{reason}\nminimal failing input: {input:#?}")
                }
            }));
        });
    }
    let result = loop {
        match finished.recv_timeout(Duration::from_millis(200)) {
            Ok(result) => break result,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err("the fuzz worker thread died".to_string());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let current = current.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((started, input)) = current.as_ref()
                    && started.elapsed() > CASE_TIME_LIMIT
                {
                    panic!(
                        "[fuzz] {name}: one input ran for more than {CASE_TIME_LIMIT:?} (a hang?), \
                         seed {seed}: {input:#?}"
                    );
                }
            }
        }
    };
    let report = FuzzReport {
        accepted: counts[0].load(Ordering::Relaxed),
        rejected: counts[1].load(Ordering::Relaxed),
        inputs: counts[0].load(Ordering::Relaxed) + counts[1].load(Ordering::Relaxed),
    };
    if let Err(message) = result {
        panic!("[fuzz] {name} failed (seed {seed}): {message}");
    }
    eprintln!(
        "[fuzz] {name}: {} inputs ({} accepted, {} rejected with a typed error) in {:.2} s, seed {seed}",
        report.inputs,
        report.accepted,
        report.rejected,
        start.elapsed().as_secs_f64()
    );
    report
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn fuzz_counts_outcomes_and_reports_a_failure_with_its_smallest_input() {
        let report = fuzz("fuzz_self_test", 50, 0u32..100, |n| {
            Ok(if n % 2 == 0 {
                Outcome::Accepted
            } else {
                Outcome::Rejected
            })
        });
        assert_eq!(report.inputs, fuzz_cases(50) as usize);
        assert_eq!(report.accepted + report.rejected, report.inputs);
        let message = crate::testing::panic_message(|| {
            fuzz("fuzz_self_test_failing", 50, 0u32..100, |n| {
                prop_assert!(n < 10, "too big");
                Ok(Outcome::Accepted)
            })
        });
        assert!(message.contains("minimal failing input: 10"), "{message}");
    }
}
