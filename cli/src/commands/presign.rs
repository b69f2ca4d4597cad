//! `s3io presign`: a URL that downloads (or uploads) an object without credentials.

use std::io::{self, Write};
use std::time::Duration;

use clap::Args;
use s3io::S3Uri;

use super::Context;
use crate::arguments::{COMMAND_HELP, object_uri};
use crate::failure::{Outcome, stdout_failed};

/// What `s3io presign --help` says below the one-line summary.
const DETAILS: &str = "\
Prints a URL with which anyone can download the object (or with --put, upload it with
an HTTP PUT) until it expires. Treat it as a secret.";

/// Print a URL that downloads the object without credentials
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct PresignArgs {
    /// The object the URL is for
    #[arg(value_name = "s3://bucket/key", value_parser = object_uri)]
    uri: S3Uri,

    /// How long the URL works (at most 604800 = 7 days)
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    expires_in: u64,

    /// A URL for an upload instead of a download
    #[arg(long)]
    put: bool,
}

impl PresignArgs {
    pub async fn run(self, ctx: &Context) -> Outcome {
        let (bucket, key) = (self.uri.bucket(), self.uri.key());
        let expires_in = Duration::from_secs(self.expires_in);
        let url = if self.put {
            ctx.s3.presign_put(bucket, key, expires_in).await?
        } else {
            ctx.s3.presign_get(bucket, key, expires_in).await?
        };
        writeln!(io::stdout(), "{}", url.as_str()).map_err(stdout_failed)
    }
}
