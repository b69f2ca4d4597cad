//! `s3io cat`: an object's bytes to standard output.

use clap::Args;
use s3io::S3Uri;

use super::Context;
use crate::arguments::{COMMAND_HELP, object_uri};
use crate::failure::Outcome;
use crate::output::write_to_stdout;

/// What `s3io cat --help` says below the one-line summary.
const DETAILS: &str = "\
Writes the object's bytes, unchanged, to standard output. Large objects stream in
parallel parts, in order, with bounded memory; `s3io cat s3://b/big.log | head` stops
early and quietly.";

/// Write an object's bytes to standard output
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct CatArgs {
    /// The object to write out
    #[arg(value_name = "s3://bucket/key", value_parser = object_uri)]
    uri: S3Uri,
}

impl CatArgs {
    pub async fn run(self, ctx: &Context) -> Outcome {
        write_to_stdout(&ctx.s3, &ctx.bars, &self.uri).await
    }
}
