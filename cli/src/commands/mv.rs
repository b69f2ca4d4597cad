//! `s3io mv`: `cp`, then the source is deleted: one file or object, or with `--recursive`
//! everything below a folder, prefix or glob.

use clap::Args;

use super::Context;
use super::cp::{check_sides, transfer};
use crate::arguments::{COMMAND_HELP, Location, ReportArgs, UploadArgs};
use crate::failure::Outcome;
use crate::filter::FilterArgs;

/// What `s3io mv --help` says below the one-line summary.
const DETAILS: &str = "\
Moves one file or object: a copy as `s3io cp` makes it, then the source is deleted, once
its copy is done:
  s3io mv data.csv s3://bucket/in/          upload, then delete data.csv
  s3io mv s3://bucket/in/data.csv .          download, then delete the object
  s3io mv s3://a/data.csv s3://b/data.csv    server-side copy, then delete the source

With --recursive, everything below a folder, prefix or glob moves, each object as soon as
its copy is done (a failure stops the move; what moved before it stays moved). Local
folders are left in place, empty. --exclude and --include pick what moves, as for cp.";

/// Move local <-> S3 and S3 -> S3 (--recursive for folders)
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct MvArgs {
    /// What to move: a local path or s3://bucket/key
    #[arg(value_name = "SRC", value_parser = Location::parser())]
    pub src: Location,

    /// Where to: a local path or s3://bucket/key
    #[arg(value_name = "DST", value_parser = Location::parser())]
    pub dst: Location,

    /// Move a folder, prefix or glob
    #[arg(short, long)]
    pub recursive: bool,

    #[command(flatten)]
    pub report: ReportArgs,

    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten, next_help_heading = "What uploads and copies store")]
    pub upload: UploadArgs,
}

impl MvArgs {
    pub fn check(&self) -> Result<(), String> {
        if matches!(self.src, Location::Stdio) || matches!(self.dst, Location::Stdio) {
            return Err("mv moves files and objects, not standard input or output".to_owned());
        }
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
            true,
        )
        .await
    }
}
