//! `s3io mb`: make a bucket.

use std::io::{self, Write};

use clap::Args;

use super::Context;
use crate::arguments::{COMMAND_HELP, bucket_name};
use crate::failure::{Outcome, stdout_failed};

/// What `s3io mb --help` says below the one-line summary.
const DETAILS: &str = "\
Creates a bucket in the region (--region, AWS_REGION or the profile's). A bucket you
already own is not an error.";

/// Make a bucket
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct MbArgs {
    /// The bucket to make
    #[arg(value_name = "s3://bucket", value_parser = bucket_name)]
    bucket: String,
}

impl MbArgs {
    pub async fn run(self, ctx: &Context) -> Outcome {
        ctx.s3.create_bucket(&self.bucket).await?;
        writeln!(io::stdout(), "make_bucket: {}", self.bucket).map_err(stdout_failed)
    }
}
