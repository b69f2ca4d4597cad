//! Folders: a prefix down into a local directory and a directory up under a prefix, like
//! `aws s3 cp --recursive`. Keys that would escape the target directory are refused.

use std::path::{Component, Path, PathBuf};

use futures_util::{StreamExt, TryStreamExt, stream};

use crate::connector::S3Connector;
use crate::listing::ObjectInfo;
use crate::location::KeyPattern;
use crate::many::ManyOptions;
use crate::transfer::UploadInfo;
use s3io_formats::{Error, ErrorKind, Operation, Result};

impl S3Connector {
    /// Downloads every object under a prefix (or matching a glob) into `dir`, keeping the
    /// key's path below the prefix's last `/`: `data/2024/a.csv` under prefix `data/` lands
    /// in `dir/2024/a.csv`. Before anything is written, every key is checked: one that is
    /// absolute, holds `..`, a backslash or a drive prefix is refused with an
    /// [`ErrorKind::InvalidInput`] error naming it. Returns the files written, in key order.
    ///
    /// Several files move at once; the progress callback of the
    /// [`TransferConfig`](crate::TransferConfig) hears from each, naming its key and file,
    /// with the whole folder's progress ([`Progress::folder`](crate::Progress::folder)).
    ///
    /// ```no_run
    /// # async fn demo(s3: s3io::S3Connector) -> s3io::Result<()> {
    /// let files = s3.download_dir("my-bucket", "exports/2024/", "./exports").await?;
    /// # Ok(()) }
    /// ```
    pub async fn download_dir(
        &self,
        bucket: &str,
        prefix_or_glob: &str,
        dir: impl AsRef<Path>,
    ) -> Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        let context = |e: Error| {
            e.with_operation(Operation::Download)
                .with_prefix(bucket, prefix_or_glob)
        };
        let objects: Vec<ObjectInfo> = self
            .list_objects(bucket, prefix_or_glob)
            .try_collect()
            .await?;
        let literal = KeyPattern::new(prefix_or_glob).literal_prefix();
        let base = &literal[..literal.rfind('/').map_or(0, |i| i + 1)];
        let mut plan = Vec::with_capacity(objects.len());
        let mut bytes = 0;
        for object in objects {
            if object.key.ends_with('/') && object.size == 0 {
                continue; // a "folder" placeholder
            }
            let relative = object.key.strip_prefix(base).unwrap_or(&object.key);
            let path = safe_join(dir, relative).map_err(|why| {
                context(Error::new(
                    ErrorKind::InvalidInput,
                    format!("refusing key {:?}: {why}", object.key),
                ))
            })?;
            bytes += object.size;
            plan.push((object.key, path));
        }
        let s3 = &self.with_transfer(self.transfer_config().for_folder(plan.len(), bytes));
        stream::iter(plan)
            .map(|(key, path)| async move {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| crate::transfer::local_file_error(parent, e))
                        .map_err(|e| {
                            e.with_operation(Operation::Download)
                                .with_location(bucket, &key)
                        })?;
                }
                s3.download_to_path(bucket, &key, &path).await?;
                Ok(path)
            })
            .buffered(ManyOptions::DEFAULT_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Uploads every file under `dir` (recursively, symlinks not followed) to `prefix` +
    /// its relative path with `/` separators, unchanged, several at once. Returns each key
    /// with what S3 stored, in path order.
    ///
    /// The progress callback of the [`TransferConfig`](crate::TransferConfig) hears from
    /// each file, naming its key and path, with the whole folder's progress
    /// ([`Progress::folder`](crate::Progress::folder)).
    pub async fn upload_dir(
        &self,
        dir: impl AsRef<Path>,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(String, UploadInfo)>> {
        let dir = dir.as_ref();
        let mut files = Vec::new();
        collect_files(dir, dir, &mut files).map_err(|e| {
            e.with_operation(Operation::Upload)
                .with_prefix(bucket, prefix)
        })?;
        files.sort();
        let bytes = files.iter().map(|(_, _, size)| size).sum();
        let s3 = &self.with_transfer(self.transfer_config().for_folder(files.len(), bytes));
        stream::iter(files)
            .map(|(relative, path, _)| async move {
                let key = format!("{prefix}{relative}");
                let info = s3.upload_from_path(bucket, &key, &path).await?;
                Ok((key, info))
            })
            .buffered(ManyOptions::DEFAULT_CONCURRENCY)
            .try_collect()
            .await
    }
}

/// `dir` joined with a key's path relative to a prefix, or why the key may not be written
/// there: what [`download_dir`](crate::S3Connector::download_dir) checks before it writes a
/// file, for tools that plan their own downloads. Keys that are empty, hold a backslash or a
/// NUL byte, start with a drive prefix, are absolute, or climb out with `..` are refused.
///
/// ```
/// use std::path::Path;
///
/// let dir = Path::new("out");
/// assert_eq!(s3io::safe_join(dir, "2024/a.csv").unwrap(), dir.join("2024").join("a.csv"));
/// assert!(s3io::safe_join(dir, "../../etc/passwd").is_err());
/// ```
pub fn safe_join(dir: &Path, relative: &str) -> std::result::Result<PathBuf, &'static str> {
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
/// its size.
fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf, u64)>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| crate::transfer::local_file_error(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| crate::transfer::local_file_error(dir, e))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| crate::transfer::local_file_error(&path, e))?;
        if kind.is_dir() {
            collect_files(root, &path, out)?;
        } else if kind.is_file() {
            let size = entry
                .metadata()
                .map_err(|e| crate::transfer::local_file_error(&path, e))?
                .len();
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
    use super::safe_join;
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
}
