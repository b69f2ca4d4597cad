//! `s3io rm`: one object, or with `--recursive` everything under a prefix or glob.

use std::io::{self, Write};

use clap::Args;
use s3io::{DeleteOptions, S3Uri};

use super::Context;
use crate::arguments::{COMMAND_HELP, as_folder, s3_uri};
use crate::failure::{Outcome, stdout_failed};
use crate::output::s3_text;

/// What `s3io rm --help` says below the one-line summary.
const DETAILS: &str = "\
Deletes one object (a missing one is not an error, as in S3). With --recursive, deletes
every object under a prefix or matching a glob; a prefix without a trailing '/' is taken
as a folder (s3://b/data deletes data/..., never data2/...).";

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

    /// Print what would be deleted, delete nothing
    #[arg(long)]
    dryrun: bool,

    /// Do not print a line per deleted object
    #[arg(short, long)]
    quiet: bool,
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
        let keys = if self.recursive {
            let options = DeleteOptions::new().dry_run(self.dryrun);
            ctx.s3
                .delete_prefix_with(bucket, &as_folder(key), options)
                .await?
        } else {
            if !self.dryrun {
                ctx.s3.delete(bucket, key).await?;
            }
            vec![key.to_owned()]
        };
        if self.quiet && !self.dryrun {
            return Ok(());
        }
        let mut out = io::BufWriter::new(io::stdout());
        let dry = if self.dryrun { "(dryrun) " } else { "" };
        for key in keys {
            writeln!(out, "{dry}delete: {}", s3_text(bucket, &key)).map_err(stdout_failed)?;
        }
        out.flush().map_err(stdout_failed)
    }
}
