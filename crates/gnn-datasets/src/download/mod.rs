//! TU datasets by name: a local cache, filled from the TU Dortmund server on first use when the
//! `download` feature is on.
//!
//! [`DatasetSource`] looks for `CACHE/NAME/NAME_A.txt`. When it is absent and the `download`
//! feature is on, it downloads `BASE_URL/NAME.zip`, unpacks it into a hidden temporary folder inside `CACHE`, checks that
//! the dataset there reads without error, and only then renames the dataset folder to
//! `CACHE/NAME` (a rename within one file system is atomic). A failed or corrupt download
//! leaves no `CACHE/NAME` behind, and its temporary folder is removed when the attempt ends
//! (a process killed in the middle may leave a hidden `CACHE/.NAME.download-*` folder, never a
//! half-written `CACHE/NAME`). Without the feature, an uncached name is a
//! [`DataError::NotCached`]: the files must be put in `CACHE/NAME` by other means.
//!
//! | setting | argument | environment | default |
//! |---|---|---|---|
//! | cache folder | [`DatasetSource::with_cache_dir`] | `GNN_DATA_DIR` | `gnn-datasets` in the user cache folder ([`default_cache_dir`]) |
//! | server | [`DatasetSource::with_base_url`] | `GNN_DATASET_URL` | [`DEFAULT_BASE_URL`] |

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{DataError, Result};
use crate::tu::{TuDataset, TuOptions, load_tu};

#[cfg(feature = "download")]
mod http;

/// Where the TU Dortmund collection is served: `BASE/NAME.zip`.
pub const DEFAULT_BASE_URL: &str = "https://www.chrsmrrs.com/graphkerneldatasets";

/// Environment variable that overrides the cache folder.
pub const DATA_DIR_ENV: &str = "GNN_DATA_DIR";

/// The folder, inside the platform's user cache folder, of the default cache.
pub const CACHE_SUBDIR: &str = "gnn-datasets";

/// Environment variable that overrides the base URL (for a mirror, or a test server).
pub const DATASET_URL_ENV: &str = "GNN_DATASET_URL";

/// The graph-classification datasets this library is benchmarked on (any other TU name works
/// as well).
pub const KNOWN_DATASETS: &[&str] = &[
    "MUTAG",
    "PROTEINS",
    "PROTEINS_full",
    "ENZYMES",
    "NCI1",
    "NCI109",
    "DD",
    "IMDB-BINARY",
    "IMDB-MULTI",
    "REDDIT-BINARY",
    "COLLAB",
];

/// One line of [`DatasetSource::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetStatus {
    /// The dataset's name.
    pub name: String,
    /// Whether `CACHE/NAME/NAME_A.txt` exists.
    pub cached: bool,
    /// Whether the name is one of [`KNOWN_DATASETS`].
    pub known: bool,
    /// `CACHE/NAME`.
    pub path: PathBuf,
}

/// TU datasets by name, from a cache folder that is filled by download on first use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSource {
    cache_dir: PathBuf,
    base_url: String,
    timeout: Duration,
}

impl DatasetSource {
    /// A source with an explicit cache folder and base URL (no environment read).
    pub fn new(cache_dir: impl Into<PathBuf>, base_url: impl Into<String>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            timeout: Duration::from_secs(60),
        }
    }

    /// The cache folder of [`default_cache_dir`] (`GNN_DATA_DIR`, else the user cache folder)
    /// and the base URL from `GNN_DATASET_URL` (else [`DEFAULT_BASE_URL`]).
    ///
    /// # Errors
    /// [`DataError::NoCacheDir`] when `GNN_DATA_DIR` is unset and the platform has no user
    /// cache folder.
    pub fn from_env() -> Result<Self> {
        let url = std::env::var(DATASET_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        Ok(Self::new(default_cache_dir()?, url))
    }

    /// Uses `dir` as the cache folder.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = dir.into();
        self
    }

    /// Downloads from `base_url/NAME.zip`.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_string();
        self
    }

    /// Gives up a download when connecting, or any single read, takes longer than `timeout`
    /// (default 60 s; no effect without the `download` feature).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The cache folder.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// How long a download may wait for the server (see [`DatasetSource::with_timeout`]).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `CACHE/NAME`, where the dataset's files are (or will be).
    pub fn dataset_dir(&self, name: &str) -> PathBuf {
        self.cache_dir.join(name)
    }

    /// `BASE_URL/NAME.zip`.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}.zip", self.base_url)
    }

    /// Whether `CACHE/NAME/NAME_A.txt` exists.
    pub fn is_cached(&self, name: &str) -> bool {
        self.dataset_dir(name)
            .join(format!("{name}_A.txt"))
            .is_file()
    }

    /// The [`KNOWN_DATASETS`], then any other dataset found in the cache, each saying whether
    /// it is cached.
    pub fn list(&self) -> Vec<DatasetStatus> {
        let mut names: Vec<String> = KNOWN_DATASETS.iter().map(|n| n.to_string()).collect();
        let mut others: Vec<String> = std::fs::read_dir(&self.cache_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| validate_name(name).is_ok() && !KNOWN_DATASETS.contains(&name.as_str()))
            .filter(|name| self.is_cached(name))
            .collect();
        others.sort();
        names.extend(others);
        names
            .into_iter()
            .map(|name| DatasetStatus {
                cached: self.is_cached(&name),
                known: KNOWN_DATASETS.contains(&name.as_str()),
                path: self.dataset_dir(&name),
                name,
            })
            .collect()
    }

    /// Makes sure dataset `name` is in the cache, downloading it if needed; returns its folder.
    ///
    /// With the `download` feature, a download is unpacked into a temporary folder inside the
    /// cache, read once with [`TuOptions::default`] to check it, and renamed into place; on any
    /// error nothing is left under `CACHE/NAME`. Without it, an uncached name is an error.
    ///
    /// # Errors
    /// [`DataError::InvalidName`]; without the `download` feature, [`DataError::NotCached`];
    /// with it, [`DataError::HttpStatus`] (e.g. 404 for an unknown name),
    /// [`DataError::Download`], [`DataError::BadArchive`], [`DataError::ArchiveWithoutDataset`],
    /// [`DataError::Io`], and any error of [`load_tu`] on the unpacked files.
    pub fn fetch(&self, name: &str) -> Result<PathBuf> {
        validate_name(name)?;
        if self.is_cached(name) {
            return Ok(self.dataset_dir(name));
        }
        #[cfg(feature = "download")]
        return http::download_into_cache(self, name);
        #[cfg(not(feature = "download"))]
        return Err(DataError::NotCached {
            name: name.to_string(),
            dir: self.dataset_dir(name),
        });
    }

    /// Reads dataset `name` from the cache, downloading it first if needed (see
    /// [`DatasetSource::fetch`]).
    ///
    /// # Errors
    /// Those of [`DatasetSource::fetch`] and [`load_tu`].
    pub fn load(&self, name: &str, options: &TuOptions) -> Result<TuDataset> {
        let dir = self.fetch(name)?;
        load_tu(&dir, name, options)
    }
}

/// Checks that `name` can be a TU dataset name: non-empty, ASCII letters, digits, `_` and `-`
/// (so that it is safe in a path and a URL).
///
/// # Errors
/// [`DataError::InvalidName`] otherwise.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(DataError::InvalidName {
            name: name.to_string(),
        })
    }
}

/// The default cache folder: `GNN_DATA_DIR` when set (and not empty), else `gnn-datasets` in
/// the platform's user cache folder ([`dirs::cache_dir`]): `$XDG_CACHE_HOME/gnn-datasets` or
/// `~/.cache/gnn-datasets` on Linux, `~/Library/Caches/gnn-datasets` on macOS,
/// `%LOCALAPPDATA%\gnn-datasets` on Windows.
///
/// # Errors
/// [`DataError::NoCacheDir`] when `GNN_DATA_DIR` is unset and the platform has no user cache
/// folder (no home directory): set `GNN_DATA_DIR` then.
pub fn default_cache_dir() -> Result<PathBuf> {
    resolve_cache_dir(std::env::var_os(DATA_DIR_ENV), dirs::cache_dir())
}

/// [`default_cache_dir`] given the value of `GNN_DATA_DIR` and the user cache folder.
fn resolve_cache_dir(env: Option<OsString>, user_cache: Option<PathBuf>) -> Result<PathBuf> {
    match env.filter(|dir| !dir.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => user_cache
            .map(|dir| dir.join(CACHE_SUBDIR))
            .ok_or(DataError::NoCacheDir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_any_path_or_url_is_built() {
        let source = DatasetSource::new("/nonexistent", "http://127.0.0.1:9");
        for bad in ["", "../etc", "a/b", "-x", "name.zip"] {
            assert!(
                matches!(source.fetch(bad), Err(DataError::InvalidName { .. })),
                "{bad}"
            );
        }
        assert!(validate_name("IMDB-BINARY").is_ok() && validate_name("PROTEINS_full").is_ok());
        assert_eq!(source.url("MUTAG"), "http://127.0.0.1:9/MUTAG.zip");
    }

    #[test]
    fn the_cache_folder_is_the_env_else_the_user_cache_folder() {
        let user = PathBuf::from("/home/someone/.cache");
        assert_eq!(
            resolve_cache_dir(Some("/data/tu".into()), Some(user.clone())).unwrap(),
            PathBuf::from("/data/tu")
        );
        assert_eq!(
            resolve_cache_dir(None, Some(user.clone())).unwrap(),
            user.join("gnn-datasets")
        );
        assert_eq!(
            resolve_cache_dir(Some("".into()), Some(user.clone())).unwrap(),
            user.join("gnn-datasets")
        );
        assert_eq!(
            resolve_cache_dir(Some("/data/tu".into()), None).unwrap(),
            PathBuf::from("/data/tu")
        );
        let err = resolve_cache_dir(None, None).unwrap_err();
        assert!(matches!(err, DataError::NoCacheDir), "{err:?}");
        assert!(err.to_string().contains("GNN_DATA_DIR"), "{err}");
    }

    /// A cached dataset `TINY` in a fresh cache folder.
    fn cached_tiny() -> (tempfile::TempDir, DatasetSource) {
        let cache = tempfile::tempdir().unwrap();
        let dir = cache.path().join("TINY");
        std::fs::create_dir_all(&dir).unwrap();
        for (kind, text) in [
            ("A", "1, 2\n2, 1\n"),
            ("graph_indicator", "1\n1\n"),
            ("graph_labels", "1\n"),
        ] {
            std::fs::write(dir.join(format!("TINY_{kind}.txt")), text).unwrap();
        }
        let source = DatasetSource::new(cache.path(), "http://127.0.0.1:9");
        (cache, source)
    }

    #[test]
    fn a_cached_dataset_is_read_without_any_download() {
        let (cache, source) = cached_tiny();
        assert!(source.is_cached("TINY"));
        assert_eq!(source.fetch("TINY").unwrap(), cache.path().join("TINY"));
        let ds = source.load("TINY", &TuOptions::default()).unwrap();
        assert_eq!((ds.len(), ds.num_edges()), (1, 2));
        let listed = source.list();
        assert!(
            listed
                .iter()
                .any(|s| s.name == "TINY" && s.cached && !s.known)
        );
        assert!(
            listed
                .iter()
                .any(|s| s.name == "MUTAG" && !s.cached && s.known)
        );
        assert_eq!(source.timeout(), Duration::from_secs(60));
    }

    #[cfg(not(feature = "download"))]
    #[test]
    fn without_the_download_feature_an_uncached_name_says_so() {
        let (cache, source) = cached_tiny();
        let err = source.load("MUTAG", &TuOptions::default()).unwrap_err();
        assert!(
            matches!(&err, DataError::NotCached { name, dir } if name == "MUTAG" && dir == &cache.path().join("MUTAG")),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("not in the cache") && message.contains("`download` feature"),
            "{message}"
        );
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 1);
    }
}
