//! Compares this library with PyTorch Geometric on parity fixtures.
//!
//! ```text
//! cargo run --release --bin pyg_parity -- FILE.json [FILE.json ...]
//! ```
//!
//! Runs every op of every fixture on `Autodiff<NdArray<f64>>`, prints per op the largest error of
//! each compared quantity, then one JSON line per op
//! (`{"case":..,"op":..,"max_abs_err":..,"exact_match":..,"pass":..}`), and exits with status 1
//! if any op fails (2 for unreadable files).

use std::process::ExitCode;

use burn::backend::{Autodiff, NdArray};
use gnn_parity::{TOLERANCE_F64, parse_fixture, run_fixture};

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: pyg_parity FILE.json [FILE.json ...]");
        return ExitCode::from(2);
    }
    let device = Default::default();
    let mut all_pass = true;
    for file in &files {
        let fixture = match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|text| parse_fixture(&text).map_err(|e| e.to_string()))
        {
            Ok(fixture) => fixture,
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(2);
            }
        };
        let reports = match run_fixture::<Autodiff<NdArray<f64>>>(&fixture, TOLERANCE_F64, &device)
        {
            Ok(reports) => reports,
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(2);
            }
        };
        for report in reports {
            eprintln!("{} / {}:", report.case, report.op);
            for (quantity, err) in &report.details {
                eprintln!("    {quantity:<28} {err:.3e}");
            }
            if let Some(why) = &report.unsupported {
                eprintln!("    not run: {why}");
            }
            all_pass &= report.pass;
            println!(
                "{}",
                serde_json::to_string(&report).expect("a report serialises")
            );
        }
    }
    if all_pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
