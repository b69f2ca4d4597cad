//! `s3io schema`: a table's column names and types.

use std::io;

use clap::Args;
use s3io::S3Uri;
use s3io::polars::prelude::DataFrame;

use super::Context;
use super::head::each_sheet;
use crate::arguments::{COMMAND_HELP, ReadArgs, object_uri};
use crate::failure::{Outcome, stdout_failed};
use crate::output;

/// What `s3io schema --help` says below the one-line summary.
const DETAILS: &str = "\
Reads a table (csv, tsv, jsonl, parquet, arrow, a workbook's sheet, or JSON and
pickles of records) and prints each column's name and polars dtype, one a line. A
Parquet object's schema comes from its footer alone, fetched by range requests; other
formats are downloaded whole.";

/// Show a table's column names and types
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct SchemaArgs {
    /// The table to describe
    #[arg(value_name = "s3://bucket/key", value_parser = object_uri)]
    uri: S3Uri,

    /// Every sheet of a workbook, each under its name
    #[arg(long, conflicts_with_all = ["sheet", "sheet_index", "separator"])]
    all_sheets: bool,

    #[command(flatten)]
    read: ReadArgs,
}

impl SchemaArgs {
    pub fn check(&self) -> Result<(), String> {
        self.read.check_fits(self.all_sheets, &self.uri)
    }

    pub async fn run(self, ctx: &Context) -> Outcome {
        let uri = &self.uri;
        let options = self.read.read_options();
        if self.all_sheets {
            return each_sheet(ctx, uri, options, output::schema).await;
        }
        let s3 = ctx.bars.connector(&ctx.s3, uri.to_string());
        let schema = s3
            .object(uri.bucket(), uri.key())
            .schema_with(options)
            .await?;
        let df = DataFrame::empty_with_schema(&schema);
        output::schema(&mut io::stdout(), &df).map_err(stdout_failed)
    }
}
