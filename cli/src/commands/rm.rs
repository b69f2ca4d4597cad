//! `s3io rm`: one object, or with `--recursive` everything under a prefix or glob.

use clap::Args;
use futures_util::TryStreamExt;
use s3io::{ObjectInfo, S3Uri};

use super::Context;
use crate::arguments::{COMMAND_HELP, ReportArgs, as_folder, s3_uri};
use crate::failure::Outcome;
use crate::filter::FilterArgs;
use crate::output::{CopyReport, s3_text};

/// What `s3io rm --help` says below the one-line summary.
const DETAILS: &str = "\
Deletes one object (a missing one is not an error, as in S3). With --recursive, deletes
every object under a prefix or matching a glob; a prefix without a trailing '/' is taken
as a folder (s3://b/data deletes data/..., never data2/...). --exclude and --include pick
what goes, matching the key below the prefix, as in the AWS CLI.";

/// Delete an object (--recursive for a prefix)
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct RmArgs {
    /// The object, or with --recursive the prefix or glob, to delete
    #[arg(value_name = "s3://bucket/key", value_parser = s3_uri)]
    uri: S3Uri,

    /// Delete a prefix or glob
    #[arg(short, long)]
    recursive: bool,

    #[command(flatten)]
    report: ReportArgs,

    #[command(flatten)]
    filters: FilterArgs,
}

impl RmArgs {
    pub fn check(&self) -> Result<(), String> {
        if !self.recursive && self.uri.key().is_empty() {
            return Err(format!("{} names a bucket, not an object", self.uri));
        }
        Ok(())
    }

    pub async fn run(self, ctx: &Context) -> Outcome {
        let (bucket, key) = (self.uri.bucket(), self.uri.key());
        let filters = &self.filters.filters;
        let dry_run = self.report.dryrun;
        let mut keys = if self.recursive {
            let prefix = as_folder(key);
            let literal = s3io::KeyPattern::new(&prefix).literal_prefix();
            let base = &prefix[..literal.rfind('/').map_or(0, |i| i + 1)];
            let objects: Vec<ObjectInfo> =
                ctx.s3.list_objects(bucket, &prefix).try_collect().await?;
            objects
                .into_iter()
                .map(|o| o.key)
                .filter(|k| filters.takes(k.strip_prefix(base).unwrap_or(k)))
                .collect()
        } else {
            let name = key.rsplit('/').next().unwrap_or(key);
            if filters.takes(name) {
                vec![key.to_owned()]
            } else {
                Vec::new()
            }
        };
        if !dry_run && !keys.is_empty() {
            keys = if self.recursive {
                ctx.s3.delete_many(bucket, keys).await?
            } else {
                ctx.s3.delete(bucket, key).await?;
                keys
            };
        }
        let mut out = CopyReport::new(&self.report);
        for key in keys {
            out.deleted(s3_text(bucket, &key))?;
        }
        Ok(())
    }
}
