//! Filling the cache over HTTP (the `download` feature): fetch `BASE_URL/NAME.zip`, unpack it
//! into a hidden temporary folder inside the cache, check that the dataset there reads, and
//! rename it into place.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::DatasetSource;
use crate::error::{DataError, Result};
use crate::tu::{TuOptions, load_tu};

/// Downloads dataset `name` (a valid name, not cached yet) into `source`'s cache; returns
/// `CACHE/NAME`. On any error nothing is left under `CACHE/NAME`.
pub(super) fn download_into_cache(source: &DatasetSource, name: &str) -> Result<PathBuf> {
    let cache = source.cache_dir();
    let target = source.dataset_dir(name);
    std::fs::create_dir_all(cache).map_err(|e| DataError::io(cache, e))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.download-"))
        .tempdir_in(cache)
        .map_err(|e| DataError::io(cache, e))?;
    let url = source.url(name);
    let archive = staging.path().join("archive.zip");
    download(&url, &archive, source.timeout())?;
    let unpacked = staging.path().join("unpacked");
    unpack(&url, &archive, &unpacked)?;
    let found = locate(&unpacked, name).ok_or_else(|| DataError::ArchiveWithoutDataset {
        url: url.clone(),
        name: name.to_string(),
    })?;
    load_tu(&found, name, &TuOptions::default())?;
    if let Err(e) = std::fs::rename(&found, &target) {
        // Another process may have filled the cache meanwhile: then its copy is used.
        if !source.is_cached(name) {
            return Err(DataError::io(&target, e));
        }
    }
    drop(staging);
    Ok(target)
}

/// Saves the body of `GET url` to `to`, giving up when connecting or any read takes longer
/// than `timeout`.
fn download(url: &str, to: &Path, timeout: Duration) -> Result<()> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(timeout)
        .timeout_read(timeout)
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
    std::io::copy(&mut response.into_reader(), &mut writer).map_err(|e| DataError::Download {
        url: url.to_string(),
        message: e.to_string(),
    })?;
    writer.flush().map_err(|e| DataError::io(to, e))?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};
    use std::net::TcpListener;
    use std::path::Path;
    use std::thread::JoinHandle;
    use std::time::Instant;

    use zip::write::SimpleFileOptions;

    use super::super::DatasetSource;
    use crate::error::DataError;
    use crate::tu::TuOptions;
    use std::io::Write;
    use std::time::Duration;

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
}
