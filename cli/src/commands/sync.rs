//! `s3io sync`: makes a destination folder or prefix hold what the source holds, copying only
//! what is new or changed, as `aws s3 sync` does.

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use s3io::{KeyPattern, S3Uri};

use super::Context;
use crate::arguments::{COMMAND_HELP, Location, ReportArgs, UploadArgs, as_folder};
use crate::batch::{self, Entry, Job, Root};
use crate::failure::{Failure, Outcome};
use crate::filter::FilterArgs;
use crate::output::CopyReport;

/// What `s3io sync --help` says below the one-line summary.
const DETAILS: &str = "\
Copies every file or object of SRC that DST lacks or holds in another version, keeping its
path below SRC; a second sync right after the first copies nothing:
  s3io sync ./exports s3://bucket/exports      upload
  s3io sync s3://bucket/exports ./exports      download
  s3io sync s3://a/exports s3://b/backup       server-side copies

What counts as changed follows the AWS CLI: another size, or a time that says the source
is newer. An upload or copy goes when the source was modified after the destination; a
download goes when the local file was modified after the object (a downloaded file gets
the object's time), so an object rewritten with the same size is not fetched again unless
--exact-timestamps. Times are compared to the second.

--delete also deletes what DST holds and SRC does not, never anything outside DST's
prefix. A prefix is a folder: s3://b/out never touches out2/. --exclude and --include
apply to both sides, so an excluded file is neither copied nor deleted. Downloads refuse
keys that would land outside DST before anything is written.";

/// Copy what is new or changed from a folder or prefix to another (--delete for the rest)
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct SyncArgs {
    /// From: a local folder or s3://bucket/prefix
    #[arg(value_name = "SRC", value_parser = Location::parser())]
    pub src: Location,

    /// To: a local folder or s3://bucket/prefix
    #[arg(value_name = "DST", value_parser = Location::parser())]
    pub dst: Location,

    /// Also delete what DST holds and SRC does not
    #[arg(long)]
    pub delete: bool,

    /// Copy when sizes differ, whatever the times
    #[arg(long, conflicts_with = "exact_timestamps")]
    pub size_only: bool,

    /// Downloads: fetch a same-sized object unless its time is exactly the file's
    #[arg(long)]
    pub exact_timestamps: bool,

    #[command(flatten)]
    pub report: ReportArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten, next_help_heading = "What uploads and copies store")]
    pub upload: UploadArgs,
}

/// How `sync` tells a changed file from an unchanged one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Size, or a newer source (the AWS CLI's default).
    SizeAndTime,
    /// Size only.
    SizeOnly,
    /// Size, or for downloads any other time.
    ExactTimestamps,
}

impl SyncArgs {
    pub fn check(&self) -> Result<(), String> {
        self.upload.check()?;
        let (src, dst) = (&self.src, &self.dst);
        if matches!(src, Location::Stdio) || matches!(dst, Location::Stdio) {
            return Err("sync works on folders and prefixes, not standard input or output".into());
        }
        if !matches!(src, Location::S3(_)) && !matches!(dst, Location::S3(_)) {
            return Err("SRC or DST must be an s3:// URI".to_owned());
        }
        for side in [src, dst] {
            if let Location::S3(uri) = side
                && KeyPattern::is_glob(uri.key())
            {
                return Err(format!(
                    "{uri} is a glob; sync takes a prefix (pick with --exclude and --include)"
                ));
            }
        }
        Ok(())
    }

    fn compare(&self) -> Compare {
        if self.size_only {
            Compare::SizeOnly
        } else if self.exact_timestamps {
            Compare::ExactTimestamps
        } else {
            Compare::SizeAndTime
        }
    }

    pub async fn run(self, ctx: &Context) -> Outcome {
        let ctx = &ctx.with_upload(&self.upload);
        let root = |side: Location| match side {
            Location::S3(uri) => prefix(&uri),
            Location::Local(dir) => Root::Local(dir),
            Location::Stdio => unreachable!("refused by check"),
        };
        let compare = self.compare();
        let (from, to) = (root(self.src), root(self.dst));
        if let Root::Local(dir) = &from
            && !dir.is_dir()
        {
            return Err(Failure::Other(format!("{} is not a folder", dir.display())));
        }
        let filters = &self.filters.filters;
        let (sources, targets) = (
            from.list(&ctx.s3, filters).await?,
            to.list(&ctx.s3, filters).await?,
        );
        let download = matches!(to, Root::Local(_));
        let there: HashMap<&str, &Entry> =
            targets.iter().map(|e| (e.relative.as_str(), e)).collect();
        let mut jobs = Vec::new();
        // Every destination first: a key that would escape stops the sync before any write.
        for entry in &sources {
            let target = to.destination(&from, &entry.relative)?;
            let source = from
                .place(&entry.relative)
                .map_err(|why| Failure::Other(format!("{}: {why}", entry.relative)))?;
            let wanted = match there.get(entry.relative.as_str()) {
                None => true,
                Some(existing) => changed(entry, existing, download, compare),
            };
            if wanted {
                jobs.push(Job::new(source, target, entry, false));
            }
        }
        let mut deletes = Vec::new();
        if self.delete {
            let kept: HashSet<&str> = sources.iter().map(|e| e.relative.as_str()).collect();
            for entry in targets
                .iter()
                .filter(|e| !kept.contains(e.relative.as_str()))
            {
                deletes.push(
                    to.place(&entry.relative)
                        .map_err(|why| Failure::Other(format!("{}: {why}", entry.relative)))?,
                );
            }
        }
        let mut out = CopyReport::new(&self.report);
        let local = to.local_dir().or(from.local_dir());
        let dry_run = self.report.dryrun;
        batch::run(&ctx.s3, &ctx.bars, local, jobs, deletes, dry_run, &mut out).await
    }
}

/// A prefix as a folder (`out` is `out/`).
fn prefix(uri: &S3Uri) -> Root {
    Root::S3 {
        bucket: uri.bucket().to_owned(),
        prefix: as_folder(uri.key()),
    }
}

/// Whether `source` must be copied over `target`, as the AWS CLI decides: another size, or
/// (unless size only) a time that says so. For an upload or a copy, a source modified after
/// the destination; for a download, a local file modified after the object, or with
/// `--exact-timestamps` any other time. Times count in whole seconds: S3 keeps no more.
pub fn changed(source: &Entry, target: &Entry, download: bool, compare: Compare) -> bool {
    if source.size != target.size {
        return true;
    }
    let (Some(src), Some(dst)) = (source.modified, target.modified) else {
        return compare != Compare::SizeOnly;
    };
    let (src, dst) = (seconds(src), seconds(dst));
    match compare {
        Compare::SizeOnly => false,
        Compare::ExactTimestamps if download => src != dst,
        _ if download => dst > src,
        _ => src > dst,
    }
}

/// Whole seconds since 1970, before it negative.
fn seconds(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            if before.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn entry(size: u64, secs: u64, millis: u64) -> Entry {
        Entry {
            relative: "a".into(),
            size,
            modified: Some(UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis)),
        }
    }

    #[test]
    fn what_counts_as_changed() {
        use Compare::*;
        // (source, target, download, compare, changed)
        for (src, dst, download, compare, want) in [
            (entry(1, 100, 0), entry(2, 100, 0), false, SizeAndTime, true),
            (entry(1, 100, 0), entry(2, 100, 0), true, SizeOnly, true),
            // Uploads and copies: a newer source goes, an older one stays.
            (entry(1, 101, 0), entry(1, 100, 0), false, SizeAndTime, true),
            (
                entry(1, 100, 0),
                entry(1, 101, 0),
                false,
                SizeAndTime,
                false,
            ),
            (entry(1, 101, 0), entry(1, 100, 0), false, SizeOnly, false),
            // Within the same second: unchanged (S3 keeps whole seconds).
            (
                entry(1, 100, 700),
                entry(1, 100, 0),
                false,
                SizeAndTime,
                false,
            ),
            // Downloads: a local file newer than the object is fetched again...
            (entry(1, 100, 0), entry(1, 101, 0), true, SizeAndTime, true),
            // ...an object newer than the file is not, unless the times must be exact.
            (entry(1, 101, 0), entry(1, 100, 0), true, SizeAndTime, false),
            (
                entry(1, 101, 0),
                entry(1, 100, 0),
                true,
                ExactTimestamps,
                true,
            ),
            (
                entry(1, 100, 0),
                entry(1, 100, 0),
                true,
                ExactTimestamps,
                false,
            ),
            (
                entry(1, 101, 0),
                entry(1, 100, 0),
                false,
                ExactTimestamps,
                true,
            ),
        ] {
            assert_eq!(
                changed(&src, &dst, download, compare),
                want,
                "{src:?} over {dst:?}, download {download}, {compare:?}"
            );
        }
    }

    #[test]
    fn seconds_round_down() {
        assert_eq!(seconds(UNIX_EPOCH + Duration::from_millis(1500)), 1);
        assert_eq!(seconds(UNIX_EPOCH - Duration::from_millis(500)), -1);
        assert_eq!(seconds(UNIX_EPOCH - Duration::from_secs(2)), -2);
    }
}
