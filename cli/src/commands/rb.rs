//! `s3io rb`: remove a bucket.

use std::io::{self, Write};

use clap::Args;

use super::Context;
use crate::arguments::{COMMAND_HELP, bucket_name};
use crate::failure::{Outcome, stdout_failed};

/// What `s3io rb --help` says below the one-line summary.
const DETAILS: &str = "\
Deletes an empty bucket; with --force, first every object in it (and every version,
where kept).";

/// Remove an empty bucket (--force empties it first)
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct RbArgs {
    /// The bucket to remove
    #[arg(value_name = "s3://bucket", value_parser = bucket_name)]
    bucket: String,

    /// First delete every object in it (and every version, where kept)
    #[arg(long)]
    force: bool,
}

impl RbArgs {
    pub async fn run(self, ctx: &Context) -> Outcome {
        if self.force {
            ctx.s3.delete_bucket_force(&self.bucket).await?;
        } else {
            ctx.s3.delete_bucket(&self.bucket).await?;
        }
        writeln!(io::stdout(), "remove_bucket: {}", self.bucket).map_err(stdout_failed)
    }
}
