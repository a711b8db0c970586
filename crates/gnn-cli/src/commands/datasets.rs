//! `gnn datasets`: the built-in dataset, the cache folder, and each known TU dataset with
//! whether it is cached.

use gnn_datasets::DatasetSource;

use crate::cli::DEFAULT_DATASET;

/// Prints the built-in dataset, the cache folder (`GNN_DATA_DIR`) and one line per dataset of
/// the cache or of the known names.
pub fn execute() {
    let source = DatasetSource::from_env();
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
}
