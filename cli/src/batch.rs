//! Many files or objects at once, for `cp -r`, `mv` and `sync`: what is below a local folder
//! or an S3 prefix (with sizes and times), where each one goes, and the transfers themselves,
//! several at once, each line printed as its object is done.
//!
//! Every destination is worked out, and every key checked, before the first byte moves: a
//! key that would land outside a local target (`..`, absolute, a drive prefix, backslashes)
//! stops the command with nothing written.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use futures_util::{StreamExt, TryStreamExt, stream};
use s3io::{Error, ErrorKind, KeyPattern, ManyOptions, Operation, S3Connector};

use crate::failure::{Failure, Outcome};
use crate::filter::Filters;
use crate::output::{CopyReport, s3_text};
use crate::progress::Bars;

/// One file or object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Local(PathBuf),
    S3 { bucket: String, key: String },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Local(path) => write!(f, "{}", path.display()),
            Place::S3 { bucket, key } => f.write_str(&s3_text(bucket, key)),
        }
    }
}

/// A file or object below a root: its path below it in `/` form, size and time.
#[derive(Clone, Debug)]
pub struct Entry {
    pub relative: String,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

/// A local folder, or an S3 prefix or glob, whose contents move together.
#[derive(Clone, Debug)]
pub enum Root {
    Local(PathBuf),
    /// Keys are named below `prefix` up to its last `/` (below the literal part of a glob).
    S3 {
        bucket: String,
        prefix: String,
    },
}

impl Root {
    /// What is below the root, in path order, as far as `filters` take it. A local folder
    /// that does not exist holds nothing; symbolic links are not followed (as `upload_dir`).
    pub async fn list(&self, s3: &S3Connector, filters: &Filters) -> Result<Vec<Entry>, Failure> {
        let mut entries = match self {
            Root::Local(dir) => {
                let mut out = Vec::new();
                if dir.is_dir() {
                    walk(dir, dir, &mut out)?;
                }
                out
            }
            Root::S3 { bucket, prefix } => {
                let base = self.base();
                let objects: Vec<s3io::ObjectInfo> =
                    s3.list_objects(bucket, prefix).try_collect().await?;
                objects
                    .into_iter()
                    // A "folder" placeholder.
                    .filter(|o| !(o.key.ends_with('/') && o.size == 0))
                    .map(|o| Entry {
                        relative: o.key.strip_prefix(base).unwrap_or(&o.key).to_owned(),
                        size: o.size,
                        modified: o.last_modified,
                    })
                    .collect()
            }
        };
        entries.retain(|e| filters.takes(&e.relative));
        entries.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(entries)
    }

    /// The prefix that keys are named below: up to the last `/` of the prefix's literal part.
    fn base(&self) -> &str {
        match self {
            Root::Local(_) => "",
            Root::S3 { prefix, .. } => {
                let literal = KeyPattern::new(prefix).literal_prefix();
                let end = literal.rfind('/').map_or(0, |i| i + 1);
                &prefix[..end]
            }
        }
    }

    /// Where `relative` is below this root; for a local folder, only if it stays inside it
    /// (else why not).
    pub fn place(&self, relative: &str) -> Result<Place, &'static str> {
        match self {
            Root::Local(dir) => safe_join(dir, relative).map(Place::Local),
            Root::S3 { bucket, .. } => Ok(Place::S3 {
                bucket: bucket.clone(),
                key: format!("{}{relative}", self.base()),
            }),
        }
    }

    /// Where `relative`, below `source`, goes below this root; a key that would leave a
    /// local folder is refused, naming it and the prefix it came from.
    pub fn destination(&self, source: &Root, relative: &str) -> Result<Place, Failure> {
        self.place(relative).map_err(|why| {
            let named = match source.place(relative) {
                Ok(Place::S3 { key, .. }) => key,
                _ => relative.to_owned(),
            };
            let refused = Error::new(
                ErrorKind::InvalidInput,
                format!("refusing key {named:?}: {why}"),
            )
            .with_operation(Operation::Download);
            Failure::S3(match source {
                Root::S3 { bucket, prefix } => refused.with_prefix(bucket, prefix),
                Root::Local(_) => refused,
            })
        })
    }

    /// The local folder, if this is one.
    pub fn local_dir(&self) -> Option<&Path> {
        match self {
            Root::Local(dir) => Some(dir),
            Root::S3 { .. } => None,
        }
    }
}

/// `dir` joined with a key's path below the prefix, or why the key may not be written
/// there: the library's own check, the one `download_dir` makes.
pub use s3io::safe_join;

/// Every regular file below `dir`, with its path below `root` in `/` form.
fn walk(root: &Path, dir: &Path, out: &mut Vec<Entry>) -> Result<(), Failure> {
    let cannot = |path: &Path, e| Failure::Io(format!("cannot read {}", path.display()), e);
    for entry in std::fs::read_dir(dir).map_err(|e| cannot(dir, e))? {
        let entry = entry.map_err(|e| cannot(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| cannot(&path, e))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            let meta = entry.metadata().map_err(|e| cannot(&path, e))?;
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(Entry {
                relative: parts.join("/"),
                size: meta.len(),
                modified: meta.modified().ok(),
            });
        }
    }
    Ok(())
}

/// One transfer: `upload`, `download`, `copy` or `move`, with the source's size and time
/// (a download's file gets the object's time, as the AWS CLI does, so `sync` can compare).
#[derive(Clone, Debug)]
pub struct Job {
    pub verb: &'static str,
    pub from: Place,
    pub to: Place,
    pub size: u64,
    pub modified: Option<SystemTime>,
    /// `mv`: the source goes once the copy is done.
    pub then_delete_source: bool,
}

impl Job {
    /// `from` to `to`, its verb from their sides (`move` for `mv`).
    pub fn new(from: Place, to: Place, entry: &Entry, moving: bool) -> Job {
        let verb = match (&from, &to, moving) {
            (_, _, true) => "move",
            (Place::Local(_), _, _) => "upload",
            (_, Place::Local(_), _) => "download",
            _ => "copy",
        };
        Job {
            verb,
            from,
            to,
            size: entry.size,
            modified: entry.modified,
            then_delete_source: moving,
        }
    }
}

/// Does one job with `s3`.
pub async fn perform(s3: &S3Connector, job: &Job) -> Outcome {
    match (&job.from, &job.to) {
        (Place::Local(path), Place::S3 { bucket, key }) => {
            s3.upload_from_path(bucket, key, path).await?;
        }
        (Place::S3 { bucket, key }, Place::Local(path)) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Failure::Io(format!("cannot create {}", parent.display()), e))?;
            }
            s3.download_to_path(bucket, key, path).await?;
            if let Some(at) = job.modified {
                set_modified(path, at)?;
            }
        }
        (
            Place::S3 { bucket, key },
            Place::S3 {
                bucket: to_bucket,
                key: to_key,
            },
        ) => {
            s3.copy(bucket, key, to_bucket, to_key).await?;
        }
        (Place::Local(_), Place::Local(_)) => {
            return Err(Failure::Other("SRC or DST must be an s3:// URI".to_owned()));
        }
    }
    if job.then_delete_source {
        delete(s3, &job.from).await?;
    }
    Ok(())
}

/// Gives a downloaded file the object's time.
fn set_modified(path: &Path, at: SystemTime) -> Outcome {
    let cannot = |e| Failure::Io(format!("cannot set the time of {}", path.display()), e);
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .map_err(cannot)?;
    file.set_modified(at).map_err(cannot)
}

/// Deletes one file or object.
async fn delete(s3: &S3Connector, place: &Place) -> Outcome {
    match place {
        Place::Local(path) => std::fs::remove_file(path)
            .map_err(|e| Failure::Io(format!("cannot delete {}", path.display()), e)),
        Place::S3 { bucket, key } => Ok(s3.delete(bucket, key).await?),
    }
}

/// Does the jobs, several at once, printing each line as its job is done, then the deletes
/// (`sync --delete`); in a dry run, prints them all and does nothing. The first failure
/// stops the batch. Progress bars name files below `root`.
pub async fn run(
    s3: &S3Connector,
    bars: &Bars,
    root: Option<&Path>,
    jobs: Vec<Job>,
    deletes: Vec<Place>,
    dry_run: bool,
    report: &mut CopyReport,
) -> Outcome {
    if dry_run {
        for job in &jobs {
            report.line(job.verb, &job.from, &job.to)?;
        }
        for place in &deletes {
            report.deleted(place)?;
        }
        return Ok(());
    }
    if !jobs.is_empty() {
        let total = jobs.iter().map(|job| job.size).sum();
        let batch = bars.batch(s3, root, jobs.len(), total);
        let s3 = &batch.s3;
        let mut done = stream::iter(jobs)
            .map(|job| async move { perform(s3, &job).await.map(|()| job) })
            .buffer_unordered(ManyOptions::DEFAULT_CONCURRENCY);
        while let Some(job) = done.try_next().await? {
            report.line(job.verb, &job.from, &job.to)?;
        }
        batch.finish();
    }
    delete_all(s3, deletes, report).await
}

/// Deletes files one by one and objects 1,000 a request, printing each.
async fn delete_all(s3: &S3Connector, deletes: Vec<Place>, report: &mut CopyReport) -> Outcome {
    let mut by_bucket: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for place in deletes {
        match place {
            Place::Local(_) => {
                delete(s3, &place).await?;
                report.deleted(&place)?;
            }
            Place::S3 { bucket, key } => by_bucket.entry(bucket).or_default().push(key),
        }
    }
    for (bucket, keys) in by_bucket {
        for key in s3.delete_many(&bucket, keys).await? {
            report.deleted(s3_text(&bucket, &key))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_target() {
        let dir = Path::new("/data/out");
        assert_eq!(
            safe_join(dir, "월별/매출 1.csv").unwrap(),
            Path::new("/data/out/월별/매출 1.csv")
        );
        for bad in ["../x", "a/../../x", "/etc/passwd", "C:/x", "a\\..\\x", ""] {
            assert!(safe_join(dir, bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn keys_are_named_below_the_prefix() {
        let root = |prefix: &str| Root::S3 {
            bucket: "b".into(),
            prefix: prefix.into(),
        };
        assert_eq!(root("data/").base(), "data/");
        assert_eq!(root("data/2024").base(), "data/");
        assert_eq!(root("logs/**/*.csv").base(), "logs/");
        assert_eq!(root("").base(), "");
        assert_eq!(
            root("out/").place("a b/c.txt").ok(),
            Some(Place::S3 {
                bucket: "b".into(),
                key: "out/a b/c.txt".into()
            })
        );
    }
}
