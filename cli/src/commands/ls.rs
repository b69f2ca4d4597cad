//! `s3io ls`: buckets, or the folders and objects below a prefix, as `aws s3 ls` prints them.

use std::io::{self, Write};

use clap::Args;
use futures_util::TryStreamExt;
use s3io::{KeyPattern, ListOptions, S3Uri};

use super::Context;
use crate::arguments::{COMMAND_HELP, s3_uri};
use crate::failure::{Outcome, stdout_failed};
use crate::output;

/// What `s3io ls --help` says below the one-line summary.
const DETAILS: &str = "\
Without an argument, lists the buckets. With a bucket or prefix, lists the folders (PRE)
and objects directly below it, with their last-modified time (UTC) and size in bytes;
names are shown relative to the prefix's last '/', as the AWS CLI does.

A prefix holding *, ?, [ or ** is a glob: `s3io ls 's3://b/logs/**/*.csv'` lists only
the literal part (logs/) and shows the full keys that match. * and ? stay within one
folder; ** crosses folders.";

/// List buckets, or the objects and folders below a prefix (globs welcome)
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct LsArgs {
    /// The bucket, prefix or glob to list (none: the buckets)
    #[arg(value_name = "s3://bucket[/prefix]", value_parser = s3_uri)]
    uri: Option<S3Uri>,

    /// Every object below the prefix, with full keys
    #[arg(short, long)]
    recursive: bool,

    /// Sizes as KiB, MiB, GiB
    #[arg(long)]
    human_readable: bool,

    /// End with the number of objects and their total size
    #[arg(long)]
    summarize: bool,
}

impl LsArgs {
    pub async fn run(self, ctx: &Context) -> Outcome {
        let s3 = &ctx.s3;
        let human = self.human_readable;
        let mut out = io::BufWriter::new(io::stdout());
        let Some(uri) = self.uri else {
            for bucket in s3.list_buckets().await? {
                writeln!(out, "{} {}", output::time(bucket.created), bucket.name)
                    .map_err(stdout_failed)?;
            }
            return out.flush().map_err(stdout_failed);
        };
        let (bucket, prefix) = (uri.bucket(), uri.key());
        let (mut count, mut total) = (0u64, 0u64);
        if self.recursive || KeyPattern::is_glob(prefix) {
            // Full keys, printed as the pages arrive.
            let mut objects = std::pin::pin!(s3.list_objects(bucket, prefix));
            while let Some(object) = objects.try_next().await? {
                (count, total) = (count + 1, total + object.size);
                writeln!(out, "{}", output::object_line(&object, &object.key, human))
                    .map_err(stdout_failed)?;
            }
        } else {
            // One level, named below the prefix's last `/`, like `aws s3 ls`.
            let base = &prefix[..prefix.rfind('/').map_or(0, |i| i + 1)];
            let relative = |name: &str| name.strip_prefix(base).unwrap_or(name).to_owned();
            for folder in s3.list_dirs(bucket, prefix).await? {
                writeln!(out, "{}", output::folder_line(&relative(&folder)))
                    .map_err(stdout_failed)?;
            }
            let one_level = ListOptions::new().delimiter("/");
            let mut objects = std::pin::pin!(s3.list_objects_with(bucket, prefix, one_level));
            while let Some(object) = objects.try_next().await? {
                (count, total) = (count + 1, total + object.size);
                let line = output::object_line(&object, &relative(&object.key), human);
                writeln!(out, "{line}").map_err(stdout_failed)?;
            }
        }
        if self.summarize {
            writeln!(
                out,
                "\nTotal Objects: {count}\n   Total Size: {}",
                output::size(total, human)
            )
            .map_err(stdout_failed)?;
        }
        out.flush().map_err(stdout_failed)
    }
}
