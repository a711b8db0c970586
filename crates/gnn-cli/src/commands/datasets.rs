//! `gnn datasets`: the built-in dataset, the cache folder, and each known TU dataset with
//! whether it is cached.

use gnn_datasets::DatasetSource;

use super::CommandError;
use crate::cli::DEFAULT_DATASET;

/// Prints the built-in dataset, the cache folder (`GNN_DATA_DIR`, else the user's cache
/// folder) and one line per dataset of the cache or of the known names.
///
/// # Errors
/// [`CommandError::Data`] when there is no cache folder (no `GNN_DATA_DIR` and no user cache
/// folder).
pub fn execute() -> Result<(), CommandError> {
    let source = DatasetSource::from_env()?;
    println!("{DEFAULT_DATASET:<16} built in (generated in code; the default of `gnn train`)");
    println!("cache: {}", source.cache_dir().display());
    for status in source.list() {
        let state = if status.cached {
            "cached"
        } else {
            "not cached (downloaded on first use)"
        };
        let known = if status.known {
            ""
        } else {
            " (not a known name)"
        };
        println!(
            "{:<16} {state}{known}  {}",
            status.name,
            status.path.display()
        );
    }
    Ok(())
}
