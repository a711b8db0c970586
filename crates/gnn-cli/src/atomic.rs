//! Atomic file writes: every file the program writes (`metrics.json`, `run.json`, `state.json`,
//! `model.json`, `model.mpk`, checkpoints, `training_curves.svg`, a selection) goes to a
//! temporary file in the destination's folder, is flushed to disk, then renamed over the
//! destination. A run killed at any moment leaves each file either as it was or complete, never
//! half written.
//!
//! This module is at the bottom of the crate: it depends on no other module of it.

use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` atomically: a temporary file beside it (same folder, so the
/// rename cannot cross file systems), synced, then renamed over `path`. Creates the folder when
/// missing.
///
/// # Errors
/// An I/O error creating, writing, syncing or renaming the file; `path` is then unchanged.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    // Created as `fs::write` creates files (0o666 less the umask), not with a temporary
    // file's 0o600, so that the renamed file is as readable as before.
    let mut file = tempfile::Builder::new()
        .prefix(".tmp-")
        .make_in(dir, |path| {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
        })?;
    file.write_all(contents)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("a.json");
        write_atomic(&path, b"first").expect("written");
        write_atomic(&path, b"second").expect("rewritten");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .expect("folder")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
        // As readable as a file `fs::write` creates (the umask applies to both).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.path().join("plain");
            std::fs::write(&plain, b"x").expect("written");
            let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode();
            assert_eq!(mode(&path), mode(&plain));
        }
        // A destination that is a folder cannot be replaced: an error, and the folder stays.
        let err = write_atomic(dir.path(), b"x").expect_err("a folder");
        assert!(!err.to_string().is_empty());
        assert!(dir.path().is_dir());
    }
}
