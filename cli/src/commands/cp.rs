//! `s3io cp`: one file or object, or with `--recursive` a whole folder or prefix, between
//! the local disk, standard input or output, and S3.

use std::io::Read as _;

use clap::Args;
use s3io::S3Uri;

use super::Context;
use crate::arguments::{COMMAND_HELP, Location, ReportArgs, UploadArgs, as_folder};
use crate::batch::{self, Entry, Job, Place, Root};
use crate::failure::{Failure, Outcome};
use crate::filter::{FilterArgs, Filters};
use crate::output::{CopyReport, write_to_stdout};

/// What `s3io cp --help` says below the one-line summary.
const DETAILS: &str = "\
Copies one object or file, bytes unchanged:
  s3io cp data.csv s3://bucket/in/          upload (a key ending in / keeps the file name)
  s3io cp s3://bucket/in/data.csv .          download (into a folder keeps the key's name)
  s3io cp s3://a/data.csv s3://b/copy.csv    server-side copy
  s3io cp - s3://bucket/notes.txt            standard input to an object
  s3io cp s3://bucket/big.log -              an object to standard output

With --recursive, SRC is a folder, a prefix or a glob, and every object or file below it
is copied, keeping its path below the prefix's last '/', several at once; a line is printed
as each one is done. A prefix without a trailing '/' is taken as a folder. Downloads refuse
keys that would land outside DST (holding '..', absolute, with a drive prefix or
backslashes) before anything is written, and give each file the object's time.

--exclude and --include pick what is copied, as in the AWS CLI: the filters apply in order,
the last that matches wins, and patterns match the path below SRC:
  s3io cp -r s3://bucket/in/ . --exclude '*' --include '*.csv'";

/// Copy local <-> S3 and S3 -> S3 (--recursive for folders)
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct CpArgs {
    /// What to copy: a local path, s3://bucket/key, or - for standard input
    #[arg(value_name = "SRC", value_parser = Location::parser())]
    pub src: Location,

    /// Where to: a local path, s3://bucket/key, or - for standard output
    #[arg(value_name = "DST", value_parser = Location::parser())]
    pub dst: Location,

    /// Copy a folder, prefix or glob
    #[arg(short, long)]
    pub recursive: bool,

    #[command(flatten)]
    pub report: ReportArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten, next_help_heading = "What uploads and copies store")]
    pub upload: UploadArgs,
}

impl CpArgs {
    pub fn check(&self) -> Result<(), String> {
        self.upload.check()?;
        check_sides(&self.src, &self.dst, self.recursive)
    }

    pub async fn run(self, ctx: &Context) -> Outcome {
        let ctx = &ctx.with_upload(&self.upload);
        let filters = &self.filters.filters;
        transfer(
            ctx,
            self.src,
            self.dst,
            self.recursive,
            &self.report,
            filters,
            false,
        )
        .await
    }
}

/// The checks `cp` and `mv` share.
pub(super) fn check_sides(src: &Location, dst: &Location, recursive: bool) -> Result<(), String> {
    if !matches!(src, Location::S3(_)) && !matches!(dst, Location::S3(_)) {
        return Err("SRC or DST must be an s3:// URI".to_owned());
    }
    if recursive && (matches!(src, Location::Stdio) || matches!(dst, Location::Stdio)) {
        return Err("--recursive copies folders, not standard input or output".to_owned());
    }
    if let (Location::Stdio, Location::S3(uri)) = (src, dst)
        && names_a_folder(uri)
    {
        return Err("standard input goes to one object: DST needs a full key".to_owned());
    }
    if let Location::S3(uri) = src
        && !recursive
        && names_a_folder(uri)
    {
        return Err(format!(
            "{uri} is a prefix, not an object; add --recursive to copy what is under it"
        ));
    }
    Ok(())
}

/// `cp`, or with `moving` `mv`: one file or object, or with `recursive` everything below a
/// folder, prefix or glob.
pub(super) async fn transfer(
    ctx: &Context,
    src: Location,
    dst: Location,
    recursive: bool,
    report: &ReportArgs,
    filters: &Filters,
    moving: bool,
) -> Outcome {
    let mut out = CopyReport::new(report);
    if recursive {
        copy_recursive(ctx, src, dst, report.dryrun, filters, moving, &mut out).await
    } else {
        copy_one(ctx, src, dst, report.dryrun, filters, moving, &mut out).await
    }
}

/// Whether a URI names a bucket or a folder rather than one object.
fn names_a_folder(uri: &S3Uri) -> bool {
    uri.key().is_empty() || uri.key().ends_with('/')
}

/// The last segment of a key: the file name it gets when copied into a folder.
fn base_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// A destination key: `dst` itself, or `dst` + the source's name when `dst` is a folder.
fn key_into(dst: &str, name: &str) -> String {
    if dst.is_empty() || dst.ends_with('/') {
        format!("{dst}{name}")
    } else {
        dst.to_owned()
    }
}

async fn copy_one(
    ctx: &Context,
    src: Location,
    dst: Location,
    dry_run: bool,
    filters: &Filters,
    moving: bool,
    out: &mut CopyReport,
) -> Outcome {
    let (from, to) = match (src, dst) {
        (Location::Local(path), Location::S3(uri)) => {
            if path.is_dir() {
                return Err(Failure::Other(format!(
                    "{} is a folder; add --recursive to upload what is in it",
                    path.display()
                )));
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let key = key_into(uri.key(), &name);
            let to = Place::S3 {
                bucket: uri.bucket().to_owned(),
                key,
            };
            (Place::Local(path), to)
        }
        (Location::S3(uri), Location::Local(path)) => {
            let into_folder = path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/');
            let target = if into_folder {
                path.join(base_name(uri.key()))
            } else {
                path
            };
            (object(&uri, uri.key()), Place::Local(target))
        }
        (Location::S3(from), Location::S3(to)) => {
            let key = key_into(to.key(), base_name(from.key()));
            (object(&from, from.key()), object(&to, &key))
        }
        (Location::Stdio, Location::S3(uri)) => {
            if !filters.takes(base_name(uri.key())) {
                return Ok(());
            }
            if dry_run {
                return out.line("upload", "-", &uri);
            }
            let mut body = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut body)
                .map_err(|e| Failure::Io("cannot read standard input".to_owned(), e))?;
            let s3 = ctx.bars.connector(&ctx.s3, uri.to_string());
            s3.upload(uri.bucket(), uri.key(), bytes::Bytes::from(body))
                .await?;
            return Ok(());
        }
        (Location::S3(uri), Location::Stdio) => {
            if !filters.takes(base_name(uri.key())) {
                return Ok(());
            }
            if dry_run {
                return out.line("download", &uri, "-");
            }
            return write_to_stdout(&ctx.s3, &ctx.bars, &uri).await;
        }
        _ => return Err(Failure::Other("SRC or DST must be an s3:// URI".to_owned())),
    };
    // Filters match the source's name, as the AWS CLI matches them below its folder.
    let name = match &from {
        Place::Local(path) => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        Place::S3 { key, .. } => base_name(key).to_owned(),
    };
    if !filters.takes(&name) {
        return Ok(());
    }
    if moving && from == to {
        return Err(Failure::Other(format!("cannot move {from} onto itself")));
    }
    let unknown = Entry {
        relative: name,
        size: 0,
        modified: None,
    };
    let job = Job::new(from, to, &unknown, moving);
    if !dry_run {
        let s3 = ctx.bars.connector(&ctx.s3, job.from.to_string());
        batch::perform(&s3, &job).await?;
    }
    out.line(job.verb, &job.from, &job.to)
}

/// An object of the bucket `uri` names.
fn object(uri: &S3Uri, key: &str) -> Place {
    Place::S3 {
        bucket: uri.bucket().to_owned(),
        key: key.to_owned(),
    }
}

async fn copy_recursive(
    ctx: &Context,
    src: Location,
    dst: Location,
    dry_run: bool,
    filters: &Filters,
    moving: bool,
    out: &mut CopyReport,
) -> Outcome {
    let folder = |uri: &S3Uri| Root::S3 {
        bucket: uri.bucket().to_owned(),
        prefix: as_folder(uri.key()),
    };
    let (from, to) = match (src, dst) {
        (Location::Local(dir), Location::S3(uri)) => {
            if !dir.is_dir() {
                return Err(Failure::Other(format!("{} is not a folder", dir.display())));
            }
            (Root::Local(dir), folder(&uri))
        }
        (Location::S3(uri), Location::Local(dir)) => (folder(&uri), Root::Local(dir)),
        (Location::S3(from), Location::S3(to)) => (folder(&from), folder(&to)),
        _ => {
            return Err(Failure::Other(
                "--recursive copies between a folder and S3, or within S3".to_owned(),
            ));
        }
    };
    let entries = from.list(&ctx.s3, filters).await?;
    let mut jobs = Vec::with_capacity(entries.len());
    for entry in &entries {
        let source = from
            .place(&entry.relative)
            .map_err(|why| Failure::Other(format!("{}: {why}", entry.relative)))?;
        let target = to.destination(&from, &entry.relative)?;
        if moving && source == target {
            return Err(Failure::Other(format!("cannot move {source} onto itself")));
        }
        jobs.push(Job::new(source, target, entry, moving));
    }
    let root = to.local_dir().or(from.local_dir());
    batch::run(&ctx.s3, &ctx.bars, root, jobs, Vec::new(), dry_run, out).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_land_in_folders() {
        assert_eq!(key_into("in/", "a.csv"), "in/a.csv");
        assert_eq!(key_into("", "a.csv"), "a.csv");
        assert_eq!(key_into("in/b.csv", "a.csv"), "in/b.csv");
        assert_eq!(base_name("x/y/z.txt"), "z.txt");
    }
}
