//! `s3io convert`: an object rewritten in the format its new key's extension names.

use std::io::{self, Write};

use clap::Args;
use s3io::{Data, Format, Operation, S3Uri};

use super::Context;
use crate::arguments::{COMMAND_HELP, ReadArgs, object_uri};
use crate::failure::{Outcome, stdout_failed};

/// What `s3io convert --help` says below the one-line summary.
const DETAILS: &str = "\
Downloads SRC, decodes it by its extension, and uploads it encoded as DST's extension
says:
  s3io convert s3://b/sales.csv s3://b/sales.parquet
  s3io convert s3://b/report.xlsx s3://b/report.csv.gz --sheet Data
JSON and pickled records become tables when DST is csv, tsv, parquet, arrow or xlsx.
--sheet, --sheet-index, --format and --separator say how to read SRC.";

/// Rewrite an object in another format (a.csv -> a.parquet)
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct ConvertArgs {
    /// The object to read
    #[arg(value_name = "s3://bucket/SRC", value_parser = object_uri)]
    src: S3Uri,

    /// The object to write, in the format of its extension
    #[arg(value_name = "s3://bucket/DST", value_parser = object_uri)]
    dst: S3Uri,

    #[command(flatten)]
    read: ReadArgs,
}

impl ConvertArgs {
    pub fn check(&self) -> Result<(), String> {
        self.read.check_fits(false, &self.src)
    }

    pub async fn run(self, ctx: &Context) -> Outcome {
        let (src, dst) = (&self.src, &self.dst);
        let data = ctx
            .bars
            .connector(&ctx.s3, src.to_string())
            .download_with(src.bucket(), src.key(), self.read.read_options())
            .await?;
        // JSON and pickled records become tables when the target holds tables.
        let tables = [
            Format::CSV,
            Format::TSV,
            Format::PARQUET,
            Format::IPC,
            Format::EXCEL,
        ];
        let data = match data {
            Data::Json(_) | Data::Pickle(_) if tables.contains(&Format::from_key(dst.key())) => {
                Data::Frame(data.into_frame().map_err(|e| {
                    e.with_operation(Operation::Decode)
                        .with_location(src.bucket(), src.key())
                })?)
            }
            other => other,
        };
        ctx.bars
            .connector(&ctx.s3, dst.to_string())
            .upload(dst.bucket(), dst.key(), data)
            .await?;
        writeln!(io::stdout(), "convert: {src} to {dst}").map_err(stdout_failed)
    }
}
