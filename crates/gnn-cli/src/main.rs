//! `gnn`: train and evaluate hierarchical graph classifiers.
//!
//! ```text
//! cargo run --release -p gnn-cli -- train
//! gnn train --data-dir path/to/TU/PROTEINS --folds 10 --out runs/proteins
//! gnn eval --checkpoint runs/proteins --data-dir path/to/TU/PROTEINS
//! gnn datasets
//! gnn select runs/proteins-graph runs/proteins-gcn
//! ```
//!
//! Exit codes: 0 success, 1 a failure while running (unreadable data, I/O), 2 bad usage, 130
//! a training run interrupted by Ctrl-C or SIGTERM (`gnn train --resume DIR` continues it).
//! The commands live in the library, `gnn_cli::commands`.

use std::process::ExitCode;

use gnn_cli::{cli, commands};

fn main() -> ExitCode {
    gnn_core::cpu::flush_subnormals();
    gnn_core::cpu::reuse_freed_memory();
    let command = match cli::parse(std::env::args_os()) {
        Ok(command) => command,
        Err(e) => {
            if e.code == 0 {
                println!("{}", e.message);
            } else {
                eprintln!("{}", e.message);
            }
            return ExitCode::from(e.code);
        }
    };
    match commands::execute(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
