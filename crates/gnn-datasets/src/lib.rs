//! The data layer: TU datasets (files, download, cache), a synthetic default dataset, splits,
//! and the bridge to Burn's data loader.
//!
//! | module | what |
//! |---|---|
//! | [`tu`] | TU text format read as PyG's `TUDataset`: [`load_tu`], [`load_tu_dir`], [`TuOptions`] |
//! | [`transforms`] | named graph transforms: [`RemoveSelfLoops`], [`Coalesce`], [`OneHotDegree`], [`NormalizedDegree`], [`DegreeFeatures`], [`Compose`] ([`GraphTransform`]) |
//! | [`download`] | datasets by name from a cache folder (`GNN_DATA_DIR`, else the user cache folder), filled by download with the `download` feature: [`DatasetSource`], [`KNOWN_DATASETS`] |
//! | [`synthetic`] | BA-2Motifs generated in code: [`ba_2motifs`], [`Ba2MotifsConfig`] |
//! | [`standardize`] | [`Standardize`]: node attributes scaled with statistics of the training graphs |
//! | [`split`] | seeded stratified k-fold and ratio splits, standard split files: [`Fold`] |
//! | [`batcher`] | [`GraphDataset`] (`Dataset<Graph>`) and [`GraphBatcher`] (`Batcher` to `GraphBatch`) |
//! | [`error`] | [`DataError`], naming file and line for malformed data |
//!
//! Cargo features: `download` (off by default) fetches uncached TU datasets over HTTPS into the
//! cache; without it, [`DatasetSource`] reads the cache only and an uncached name is a
//! [`DataError::NotCached`]. Folders of TU files are read with [`load_tu_dir`] either way.
//!
//! ```no_run
//! use gnn_datasets::{DatasetSource, GraphDataset, TuOptions, stratified_k_fold};
//!
//! let proteins = DatasetSource::from_env()?.load("PROTEINS", &TuOptions::default())?;
//! let dataset = GraphDataset::try_from(proteins)?;
//! let folds = stratified_k_fold(&dataset.labels(), 10, 0.1, 0)?;
//! let (train, valid, test) = dataset.split(&folds[0])?;
//! # Ok::<(), gnn_datasets::DataError>(())
//! ```

pub mod batcher;
pub mod download;
pub mod error;
pub mod split;
pub mod standardize;
pub mod synthetic;
pub mod transforms;
pub mod tu;

pub use batcher::{GraphBatcher, GraphDataset};
pub use download::{
    CACHE_SUBDIR, DATA_DIR_ENV, DATASET_URL_ENV, DEFAULT_BASE_URL, DatasetSource, DatasetStatus,
    KNOWN_DATASETS, default_cache_dir, validate_name,
};
pub use error::{DataError, Result};
pub use split::{
    Fold, read_errica_splits, read_index_folds, stratified_k_fold, stratified_split, validate_folds,
};
pub use standardize::Standardize;
pub use synthetic::{Ba2MotifsConfig, Motif, MotifFeatures, ba_2motifs};
pub use transforms::{
    Coalesce, Compose, DegreeFeatures, GraphTransform, NormalizedDegree, OneHotDegree,
    RemoveSelfLoops, append_degree_features,
};
pub use tu::{
    DEFAULT_MAX_DEGREE, MAX_ONE_HOT_WIDTH, TuDataset, TuOptions, dataset_files, find_dataset_name,
    load_tu, load_tu_dir,
};
