//! `s3io cp`: one file or object, or with `--recursive` a whole folder or prefix, between
//! the local disk, standard input or output, and S3.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::PathBuf;

use clap::Args;
use s3io::S3Uri;

use super::Context;
use crate::arguments::{COMMAND_HELP, Location, as_folder};
use crate::failure::{Failure, Outcome};
use crate::output::{CopyReport, s3_text, write_to_stdout};

/// What `s3io cp --help` says below the one-line summary.
const DETAILS: &str = "\
Copies one object or file, bytes unchanged:
  s3io cp data.csv s3://bucket/in/          upload (a key ending in / keeps the file name)
  s3io cp s3://bucket/in/data.csv .          download (into a folder keeps the key's name)
  s3io cp s3://a/data.csv s3://b/copy.csv    server-side copy
  s3io cp - s3://bucket/notes.txt            standard input to an object
  s3io cp s3://bucket/big.log -              an object to standard output

With --recursive, SRC is a folder, a prefix or a glob, and every object or file below it
is copied, keeping its path below the prefix's last '/'. A prefix without a trailing '/'
is taken as a folder. Downloads refuse keys that would land outside DST (holding '..',
absolute, with a drive prefix or backslashes) before anything is written.";

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

    /// Do not print a line per copied object
    #[arg(short, long)]
    pub quiet: bool,
}

impl CpArgs {
    pub fn check(&self) -> Result<(), String> {
        let (src, dst) = (&self.src, &self.dst);
        if !matches!(src, Location::S3(_)) && !matches!(dst, Location::S3(_)) {
            return Err("SRC or DST must be an s3:// URI".to_owned());
        }
        if self.recursive && (matches!(src, Location::Stdio) || matches!(dst, Location::Stdio)) {
            return Err("--recursive copies folders, not standard input or output".to_owned());
        }
        if let (Location::Stdio, Location::S3(uri)) = (src, dst)
            && names_a_folder(uri)
        {
            return Err("standard input goes to one object: DST needs a full key".to_owned());
        }
        if let Location::S3(uri) = src
            && !self.recursive
            && names_a_folder(uri)
        {
            return Err(format!(
                "{uri} is a prefix, not an object; add --recursive to copy what is under it"
            ));
        }
        Ok(())
    }

    pub async fn run(self, ctx: &Context) -> Outcome {
        let mut report = CopyReport::new(self.quiet);
        if self.recursive {
            copy_recursive(ctx, self.src, self.dst, &mut report).await
        } else {
            copy_one(ctx, self.src, self.dst, &mut report).await
        }
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

async fn copy_one(ctx: &Context, src: Location, dst: Location, report: &mut CopyReport) -> Outcome {
    match (src, dst) {
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
            let s3 = ctx.bars.connector(&ctx.s3, path.display().to_string());
            s3.upload_from_path(uri.bucket(), &key, &path).await?;
            report.line("upload", path.display(), s3_text(uri.bucket(), &key))
        }
        (Location::S3(uri), Location::Local(path)) => {
            let into_folder = path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/');
            let target = if into_folder {
                std::fs::create_dir_all(&path)
                    .map_err(|e| Failure::Io(format!("cannot create {}", path.display()), e))?;
                path.join(base_name(uri.key()))
            } else {
                path
            };
            let s3 = ctx.bars.connector(&ctx.s3, uri.to_string());
            s3.download_to_path(uri.bucket(), uri.key(), &target)
                .await?;
            report.line("download", &uri, target.display())
        }
        (Location::S3(from), Location::S3(to)) => {
            let key = key_into(to.key(), base_name(from.key()));
            ctx.s3
                .copy(from.bucket(), from.key(), to.bucket(), &key)
                .await?;
            report.line("copy", &from, s3_text(to.bucket(), &key))
        }
        (Location::Stdio, Location::S3(uri)) => {
            let mut body = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut body)
                .map_err(|e| Failure::Io("cannot read standard input".to_owned(), e))?;
            let s3 = ctx.bars.connector(&ctx.s3, uri.to_string());
            s3.upload(uri.bucket(), uri.key(), bytes::Bytes::from(body))
                .await?;
            Ok(())
        }
        (Location::S3(uri), Location::Stdio) => write_to_stdout(&ctx.s3, &ctx.bars, &uri).await,
        _ => Err(Failure::Other("SRC or DST must be an s3:// URI".to_owned())),
    }
}

async fn copy_recursive(
    ctx: &Context,
    src: Location,
    dst: Location,
    report: &mut CopyReport,
) -> Outcome {
    match (src, dst) {
        (Location::Local(dir), Location::S3(uri)) => {
            if !dir.is_dir() {
                return Err(Failure::Other(format!("{} is not a folder", dir.display())));
            }
            let prefix = as_folder(uri.key());
            let folder = ctx.bars.folder(&ctx.s3, &dir);
            let uploaded = folder.s3.upload_dir(&dir, uri.bucket(), &prefix).await?;
            folder.finish();
            let paths = folder.files();
            for (key, _) in uploaded {
                let path = paths.get(&key).ok_or_else(|| unreported(&key))?;
                report.line("upload", path.display(), s3_text(uri.bucket(), &key))?;
            }
            Ok(())
        }
        (Location::S3(uri), Location::Local(dir)) => {
            let prefix = as_folder(uri.key());
            let folder = ctx.bars.folder(&ctx.s3, &dir);
            let written = folder.s3.download_dir(uri.bucket(), &prefix, &dir).await?;
            folder.finish();
            // The library returns the paths; its progress reports named each one's key.
            let keys: HashMap<PathBuf, String> =
                folder.files().into_iter().map(|(k, p)| (p, k)).collect();
            for path in written {
                let key = keys.get(&path).ok_or_else(|| unreported(&path.display()))?;
                report.line("download", s3_text(uri.bucket(), key), path.display())?;
            }
            Ok(())
        }
        (Location::S3(from), Location::S3(to)) => {
            let (src_prefix, dst_prefix) = (as_folder(from.key()), as_folder(to.key()));
            let copied = ctx
                .s3
                .copy_prefix(from.bucket(), &src_prefix, to.bucket(), &dst_prefix)
                .await?;
            for (src_key, dst_key) in copied {
                report.line(
                    "copy",
                    s3_text(from.bucket(), &src_key),
                    s3_text(to.bucket(), &dst_key),
                )?;
            }
            Ok(())
        }
        _ => Err(Failure::Other(
            "--recursive copies between a folder and S3, or within S3".to_owned(),
        )),
    }
}

/// A file of a folder call that no progress report named: a bug, since every transfer
/// reports at least once, naming its key and local file.
fn unreported(what: &dyn std::fmt::Display) -> Failure {
    Failure::Other(format!("internal error: no progress report named {what}"))
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
