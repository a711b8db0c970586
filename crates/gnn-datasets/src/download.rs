//! TU datasets by name: a local cache, filled from the TU Dortmund server on first use.
//!
//! [`DatasetSource`] looks for `CACHE/NAME/NAME_A.txt`. When it is absent, it downloads
//! `BASE_URL/NAME.zip`, unpacks it into a hidden temporary folder inside `CACHE`, checks that
//! the dataset there reads without error, and only then renames the dataset folder to
//! `CACHE/NAME` (a rename within one file system is atomic). A failed or corrupt download
//! leaves no `CACHE/NAME` behind, and its temporary folder is removed when the attempt ends
//! (a process killed in the middle may leave a hidden `CACHE/.NAME.download-*` folder, never a
//! half-written `CACHE/NAME`).
//!
//! | setting | argument | environment | default |
//! |---|---|---|---|
//! | cache folder | [`DatasetSource::with_cache_dir`] | `GNN_DATA_DIR` | `datasets/` at the workspace root |
//! | server | [`DatasetSource::with_base_url`] | `GNN_DATASET_URL` | [`DEFAULT_BASE_URL`] |

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{DataError, Result};
use super::tu::{TuDataset, TuOptions, load_tu};

/// Where the TU Dortmund collection is served: `BASE/NAME.zip`.
pub const DEFAULT_BASE_URL: &str = "https://www.chrsmrrs.com/graphkerneldatasets";

/// Environment variable that overrides the cache folder.
pub const DATA_DIR_ENV: &str = "GNN_DATA_DIR";

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

impl Default for DatasetSource {
    /// Same as [`DatasetSource::from_env`].
    fn default() -> Self {
        Self::from_env()
    }
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

    /// The cache folder from `GNN_DATA_DIR` (else [`default_cache_dir`]) and the base URL from
    /// `GNN_DATASET_URL` (else [`DEFAULT_BASE_URL`]).
    pub fn from_env() -> Self {
        let url = std::env::var(DATASET_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        Self::new(default_cache_dir(), url)
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
    /// (default 60 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The cache folder.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
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
    /// A download is unpacked into a temporary folder inside the cache, read once with
    /// [`TuOptions::default`] to check it, and renamed into place; on any error nothing is left
    /// under `CACHE/NAME`.
    ///
    /// # Errors
    /// [`DataError::InvalidName`], [`DataError::HttpStatus`] (e.g. 404 for an unknown name),
    /// [`DataError::Download`], [`DataError::BadArchive`], [`DataError::ArchiveWithoutDataset`],
    /// [`DataError::Io`], and any error of [`load_tu`] on the unpacked files.
    pub fn fetch(&self, name: &str) -> Result<PathBuf> {
        validate_name(name)?;
        let target = self.dataset_dir(name);
        if self.is_cached(name) {
            return Ok(target);
        }
        std::fs::create_dir_all(&self.cache_dir).map_err(|e| DataError::io(&self.cache_dir, e))?;
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.download-"))
            .tempdir_in(&self.cache_dir)
            .map_err(|e| DataError::io(&self.cache_dir, e))?;
        let url = self.url(name);
        let archive = staging.path().join("archive.zip");
        self.download(&url, &archive)?;
        let unpacked = staging.path().join("unpacked");
        unpack(&url, &archive, &unpacked)?;
        let found = locate(&unpacked, name).ok_or_else(|| DataError::ArchiveWithoutDataset {
            url: url.clone(),
            name: name.to_string(),
        })?;
        load_tu(&found, name, &TuOptions::default())?;
        if let Err(e) = std::fs::rename(&found, &target) {
            // Another process may have filled the cache meanwhile: then its copy is used.
            if !self.is_cached(name) {
                return Err(DataError::io(&target, e));
            }
        }
        drop(staging);
        Ok(target)
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

    fn download(&self, url: &str, to: &Path) -> Result<()> {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(self.timeout)
            .timeout_read(self.timeout)
            .user_agent(concat!("gnn-datasets/", env!("CARGO_PKG_VERSION")))
            .build();
        let response = agent.get(url).call().map_err(|e| match e {
            ureq::Error::Status(status, _) => DataError::HttpStatus {
                url: url.to_string(),
                status,
            },
            other => DataError::Download {
                url: url.to_string(),
                message: other.to_string(),
            },
        })?;
        let file = File::create(to).map_err(|e| DataError::io(to, e))?;
        let mut writer = BufWriter::new(file);
        std::io::copy(&mut response.into_reader(), &mut writer).map_err(|e| {
            DataError::Download {
                url: url.to_string(),
                message: e.to_string(),
            }
        })?;
        writer.flush().map_err(|e| DataError::io(to, e))?;
        Ok(())
    }
}

/// Unpacks a zip archive into `into`, refusing entries whose path would leave it and skipping
/// symbolic links.
fn unpack(url: &str, archive: &Path, into: &Path) -> Result<()> {
    let bad = |message: String| DataError::BadArchive {
        url: url.to_string(),
        message,
    };
    let file = File::open(archive).map_err(|e| DataError::io(archive, e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
    std::fs::create_dir_all(into).map_err(|e| DataError::io(into, e))?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
        let Some(relative) = entry.enclosed_name() else {
            return Err(bad(format!("entry {:?} has an unsafe path", entry.name())));
        };
        let path = into.join(relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(|e| DataError::io(&path, e))?;
        } else if entry.is_file() {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
            }
            let out = File::create(&path).map_err(|e| DataError::io(&path, e))?;
            let mut writer = BufWriter::new(out);
            std::io::copy(&mut entry, &mut writer)
                .map_err(|e| bad(format!("entry {:?}: {e}", entry.name())))?;
            writer.flush().map_err(|e| DataError::io(&path, e))?;
        }
    }
    Ok(())
}

/// The folder under `root` (itself, or up to two levels down) that holds `NAME_A.txt`.
fn locate(root: &Path, name: &str) -> Option<PathBuf> {
    let file = format!("{name}_A.txt");
    let mut level = vec![root.to_path_buf()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for dir in level {
            if dir.join(&file).is_file() {
                return Some(dir);
            }
            let mut children: Vec<PathBuf> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            children.sort();
            next.extend(children);
        }
        level = next;
    }
    None
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

/// The default cache folder: `GNN_DATA_DIR` when set, else `datasets/` at the root of the
/// Cargo workspace that contains the current folder (the nearest ancestor whose `Cargo.toml`
/// declares `[workspace]`), else `datasets/` in the current folder.
pub fn default_cache_dir() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    resolve_cache_dir(std::env::var_os(DATA_DIR_ENV), &cwd)
}

fn resolve_cache_dir(env: Option<OsString>, cwd: &Path) -> PathBuf {
    if let Some(dir) = env.filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    cwd.ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|toml| toml.lines().any(|l| l.trim() == "[workspace]"))
        })
        .unwrap_or(cwd)
        .join("datasets")
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};
    use std::net::TcpListener;
    use std::thread::JoinHandle;
    use std::time::Instant;

    use zip::write::SimpleFileOptions;

    use super::*;

    /// A zip, built in memory, holding `files` (path inside the archive, content).
    fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (path, text) in files {
            writer.start_file(*path, options).unwrap();
            writer.write_all(text.as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn tiny_files(prefix: &str) -> Vec<(String, &'static str)> {
        [
            ("A", "1, 2\n2, 1\n2, 3\n3, 2\n4, 5\n5, 4\n"),
            ("graph_indicator", "1\n1\n1\n2\n2\n"),
            ("graph_labels", "1\n-1\n"),
            ("node_labels", "0\n1\n0\n1\n1\n"),
        ]
        .into_iter()
        .map(|(kind, text)| (format!("{prefix}TINY_{kind}.txt"), text))
        .collect()
    }

    fn tiny_zip(prefix: &str) -> Vec<u8> {
        let files = tiny_files(prefix);
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        zip_of(&refs)
    }

    /// A one-shot HTTP server on 127.0.0.1 answering each of `responses` to one request, then
    /// stopping; it also stops by itself after 20 s. Returns the base URL and the thread, whose
    /// result is the requested paths.
    fn serve(responses: Vec<(u16, Vec<u8>)>) -> (String, JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut paths = Vec::new();
            let mut responses = responses.into_iter();
            let mut next = responses.next();
            while let Some((status, body)) = next.take() {
                if Instant::now() > deadline {
                    break;
                }
                let mut stream = match listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                        next = Some((status, body));
                        continue;
                    }
                    Err(_) => break,
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16384 {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&request)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                paths.push(line.split_whitespace().nth(1).unwrap_or("").to_string());
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/zip\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
                let _ = stream.flush();
                next = responses.next();
            }
            paths
        });
        (base, handle)
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn downloads_unpacks_renames_into_place_and_then_reads_the_cache() {
        let cache = tempfile::tempdir().unwrap();
        let (base, server) = serve(vec![(200, tiny_zip("TINY/"))]);
        let source = DatasetSource::new(cache.path(), format!("{base}/"));
        assert!(!source.is_cached("TINY"));
        let ds = source.load("TINY", &TuOptions::default()).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds.num_node_features(), 2);
        assert_eq!(server.join().unwrap(), vec!["/TINY.zip"]);
        assert!(source.is_cached("TINY"));
        assert_eq!(
            entries(cache.path()),
            vec!["TINY"],
            "no temporary folder left"
        );
        // The server is gone: a second load must come from the cache.
        let again = source.load("TINY", &TuOptions::default()).unwrap();
        assert_eq!(again, ds);
        let listed = source.list();
        assert!(
            listed
                .iter()
                .any(|s| s.name == "TINY" && s.cached && !s.known)
        );
        assert!(
            listed
                .iter()
                .any(|s| s.name == "PROTEINS" && !s.cached && s.known)
        );
    }

    #[test]
    fn a_flat_archive_works_too() {
        let cache = tempfile::tempdir().unwrap();
        let (base, server) = serve(vec![(200, tiny_zip(""))]);
        let source = DatasetSource::new(cache.path().join("sub"), base);
        let dir = source.fetch("TINY").unwrap();
        server.join().unwrap();
        assert_eq!(dir, cache.path().join("sub").join("TINY"));
        assert_eq!(entries(&dir).len(), 4);
    }

    fn assert_fails_clean(response: (u16, Vec<u8>), check: impl Fn(&DataError) -> bool) {
        let cache = tempfile::tempdir().unwrap();
        let (base, server) = serve(vec![response]);
        let source = DatasetSource::new(cache.path(), base);
        let err = source.fetch("TINY").unwrap_err();
        server.join().unwrap();
        assert!(check(&err), "{err:?}");
        assert!(!source.is_cached("TINY"));
        assert!(
            entries(cache.path()).is_empty(),
            "left behind: {:?}",
            entries(cache.path())
        );
    }

    #[test]
    fn a_404_leaves_nothing_behind() {
        assert_fails_clean(
            (404, b"not found".to_vec()),
            |e| matches!(e, DataError::HttpStatus { status: 404, url } if url.ends_with("/TINY.zip")),
        );
    }

    #[test]
    fn a_corrupt_zip_leaves_nothing_behind() {
        let mut bytes = tiny_zip("TINY/");
        bytes.truncate(bytes.len() / 2);
        assert_fails_clean((200, bytes), |e| matches!(e, DataError::BadArchive { .. }));
        assert_fails_clean((200, b"this is not a zip".to_vec()), |e| {
            matches!(e, DataError::BadArchive { .. })
        });
    }

    #[test]
    fn an_archive_without_the_dataset_or_with_bad_files_leaves_nothing_behind() {
        let other = zip_of(&[("OTHER/OTHER_A.txt", "1, 2\n")]);
        assert_fails_clean((200, other), |e| {
            matches!(e, DataError::ArchiveWithoutDataset { .. })
        });
        let mut files = tiny_files("TINY/");
        files[0].1 = "1, 2\n2, one\n";
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        assert_fails_clean((200, zip_of(&refs)), |e| {
            matches!(e, DataError::NotANumber { line: 2, .. })
        });
    }

    #[test]
    fn an_unreachable_server_is_a_download_error() {
        let cache = tempfile::tempdir().unwrap();
        // Bind then drop a listener: its port is (almost certainly) closed now.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let source = DatasetSource::new(cache.path(), format!("http://127.0.0.1:{port}"))
            .with_timeout(Duration::from_secs(5));
        let err = source.fetch("TINY").unwrap_err();
        assert!(matches!(err, DataError::Download { .. }), "{err:?}");
        assert!(entries(cache.path()).is_empty());
    }

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
    fn the_cache_folder_comes_from_the_env_or_the_workspace_root() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("crates").join("x");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(
            root.path().join("Cargo.toml"),
            "[workspace]\nmembers = []\n",
        )
        .unwrap();
        std::fs::write(nested.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        assert_eq!(
            resolve_cache_dir(None, &nested),
            root.path().join("datasets")
        );
        assert_eq!(
            resolve_cache_dir(Some("/data/tu".into()), &nested),
            PathBuf::from("/data/tu")
        );
        assert_eq!(
            resolve_cache_dir(Some("".into()), &nested),
            root.path().join("datasets")
        );
        let lone = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve_cache_dir(None, lone.path()),
            lone.path().join("datasets")
        );
    }
}
