//! Whole folders up and down (`cp --recursive`), one library call per file so that each file
//! in flight has a progress bar of its own: the library's progress callback does not say
//! which file it reports on, so `S3Connector::upload_dir` and `download_dir` could show only
//! one muddled line. The files, keys, order, concurrency and refusals are those of
//! `upload_dir` and `download_dir`; keep them in step.

use std::path::{Component, Path, PathBuf};

use futures_util::{StreamExt, TryStreamExt, stream};
use s3io::{Error, ErrorKind, KeyPattern, ManyOptions, ObjectInfo, Operation};

use crate::Context;
use crate::failure::Failure;

/// A prefix as a folder: `data` becomes `data/`, so it never takes in `data2/`. Globs, the
/// bucket's root and prefixes already ending in `/` stay as they are.
pub fn as_folder(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') || KeyPattern::is_glob(prefix) {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    }
}

/// An error about many keys: `download s3://bucket/prefix: message`.
fn prefix_failure(operation: Operation, bucket: &str, prefix: &str, message: &str) -> Failure {
    let slash = if prefix.is_empty() { "" } else { "/" };
    Failure::Other(format!(
        "{operation} s3://{bucket}{slash}{prefix}: {message}"
    ))
}

/// Uploads every file under `dir` (recursively, symlinks not followed) to `prefix` + its
/// relative path with `/` separators, several at once. Returns each file with its key, in
/// path order.
pub async fn upload(
    ctx: &Context,
    dir: &Path,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<(PathBuf, String)>, Failure> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files).map_err(|(path, e)| {
        let message = format!("{}: {e}", path.display());
        prefix_failure(Operation::Upload, bucket, prefix, &message)
    })?;
    files.sort();
    let bytes = files.iter().map(|f| f.2).sum();
    let batch = ctx.bars.batch(files.len(), bytes);
    let batch = &batch;
    let uploaded = stream::iter(files)
        .map(|(relative, path, _)| async move {
            let key = format!("{prefix}{relative}");
            let s3 = batch.connector(&ctx.s3, relative);
            s3.upload_from_path(bucket, &key, &path).await?;
            batch.file_done();
            Ok::<_, Failure>((path, key))
        })
        .buffered(ManyOptions::DEFAULT_CONCURRENCY)
        .try_collect()
        .await?;
    batch.finish();
    Ok(uploaded)
}

/// Downloads every object under a prefix (or matching a glob) into `dir`, keeping the key's
/// path below the prefix's last `/`. Before anything is written, every key is checked: one
/// that would land outside `dir` is refused. Returns each key with its file, in key order.
pub async fn download(
    ctx: &Context,
    bucket: &str,
    prefix_or_glob: &str,
    dir: &Path,
) -> Result<Vec<(String, PathBuf)>, Failure> {
    let objects: Vec<ObjectInfo> = ctx
        .s3
        .list_objects(bucket, prefix_or_glob)
        .try_collect()
        .await?;
    let literal = KeyPattern::new(prefix_or_glob).literal_prefix();
    let base = &literal[..literal.rfind('/').map_or(0, |i| i + 1)];
    let mut plan = Vec::with_capacity(objects.len());
    for object in objects {
        if object.key.ends_with('/') && object.size == 0 {
            continue; // a "folder" placeholder
        }
        let relative = object.key.strip_prefix(base).unwrap_or(&object.key);
        let path = safe_join(dir, relative).map_err(|why| {
            let message = format!("refusing key {:?}: {why}", object.key);
            prefix_failure(Operation::Download, bucket, prefix_or_glob, &message)
        })?;
        plan.push((relative.to_owned(), object.key, path, object.size));
    }
    let bytes = plan.iter().map(|p| p.3).sum();
    let batch = ctx.bars.batch(plan.len(), bytes);
    let batch = &batch;
    let downloaded = stream::iter(plan)
        .map(|(relative, key, path, _)| async move {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!("{}: {e}", parent.display()),
                    )
                    .with_source(e)
                    .with_operation(Operation::Download)
                    .with_location(bucket, &key)
                })?;
            }
            let s3 = batch.connector(&ctx.s3, relative);
            s3.download_to_path(bucket, &key, &path).await?;
            batch.file_done();
            Ok::<_, Failure>((key, path))
        })
        .buffered(ManyOptions::DEFAULT_CONCURRENCY)
        .try_collect()
        .await?;
    batch.finish();
    Ok(downloaded)
}

/// `dir` joined with a key's relative path, or why the key may not be written there.
fn safe_join(dir: &Path, relative: &str) -> Result<PathBuf, &'static str> {
    if relative.is_empty() {
        return Err("it names the folder itself");
    }
    if relative.contains('\\') {
        return Err("backslashes are path separators on Windows");
    }
    if relative.contains('\0') {
        return Err("it holds a NUL byte");
    }
    let first = relative.split('/').next().unwrap_or_default();
    if first.len() >= 2 && first.as_bytes()[1] == b':' {
        return Err("it starts with a drive prefix");
    }
    let mut path = dir.to_path_buf();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("`..` would leave the target folder"),
            Component::RootDir | Component::Prefix(_) => return Err("it is an absolute path"),
        }
    }
    Ok(path)
}

/// Every regular file below `dir`: its path relative to `root` in `/` form, its path, and
/// its size. A failure names the path it happened at.
fn collect_files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf, u64)>,
) -> Result<(), (PathBuf, std::io::Error)> {
    let at = |path: &Path| {
        let path = path.to_path_buf();
        move |e| (path, e)
    };
    for entry in std::fs::read_dir(dir).map_err(at(dir))? {
        let entry = entry.map_err(at(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(at(&path))?;
        if kind.is_dir() {
            collect_files(root, &path, out)?;
        } else if kind.is_file() {
            let size = entry.metadata().map_err(at(&path))?.len();
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((parts.join("/"), path, size));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{as_folder, safe_join};
    use std::path::Path;

    #[test]
    fn keys_cannot_escape_the_target() {
        let dir = Path::new("/data/out");
        assert_eq!(
            safe_join(dir, "a/b.csv").unwrap(),
            Path::new("/data/out/a/b.csv")
        );
        assert_eq!(
            safe_join(dir, "./a//b.csv").unwrap(),
            Path::new("/data/out/a/b.csv")
        );
        assert_eq!(
            safe_join(dir, "월별/매출 1.csv").unwrap(),
            Path::new("/data/out/월별/매출 1.csv")
        );
        for bad in [
            "../escape.csv",
            "a/../../escape.csv",
            "/etc/passwd",
            "C:/Windows/system.ini",
            "c:evil",
            "a\\..\\..\\evil",
            "",
            "nul\0byte",
        ] {
            assert!(safe_join(dir, bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn prefixes_are_folders() {
        assert_eq!(as_folder("data"), "data/");
        assert_eq!(as_folder("data/"), "data/");
        assert_eq!(as_folder(""), "");
        assert_eq!(as_folder("logs/**/*.csv"), "logs/**/*.csv");
    }
}
