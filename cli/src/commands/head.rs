//! `s3io head`: the beginning of a decoded object.

use std::io::{self, Write};

use clap::Args;
use s3io::polars::prelude::DataFrame;
use s3io::{Format, ReadOptions, S3Uri};

use super::Context;
use crate::arguments::{COMMAND_HELP, ReadArgs, object_uri};
use crate::failure::{Outcome, stdout_failed};
use crate::output;

/// What `s3io head --help` says below the one-line summary.
const DETAILS: &str = "\
Downloads the object, decodes it by its extension (csv, tsv, jsonl, parquet,
arrow/feather, xlsx, xlsm, xlsb, xls, ods, json, pkl, text; any of them .gz, .zst, .bz2
or .xz) and shows the beginning: a table's first rows, the first items of a JSON or
pickled list (a JSON or pickled dict whole), or a text's first lines. Of a Parquet
object, only the footer and the row groups that hold those rows are fetched; of an Arrow
IPC file, the footer and the first record batches; of a plain CSV, TSV or NDJSON object,
only the first bytes that hold them.";

/// Show the first rows of a csv, xlsx, parquet, json, pkl...
#[derive(Args)]
#[command(help_template = COMMAND_HELP, before_help = DETAILS)]
pub struct HeadArgs {
    /// The object to show
    #[arg(value_name = "s3://bucket/key", value_parser = object_uri)]
    pub uri: S3Uri,

    /// How many rows, items or lines
    #[arg(short = 'n', long, value_name = "ROWS", default_value_t = 10)]
    pub lines: usize,

    /// Every sheet of a workbook, each under its name
    #[arg(long, conflicts_with_all = ["sheet", "sheet_index", "separator"])]
    pub all_sheets: bool,

    #[command(flatten)]
    pub read: ReadArgs,
}

impl HeadArgs {
    pub fn check(&self) -> Result<(), String> {
        self.read.check_fits(self.all_sheets, &self.uri)
    }

    pub async fn run(self, ctx: &Context) -> Outcome {
        let (uri, lines) = (&self.uri, self.lines);
        let options = self.read.read_options();
        if self.all_sheets {
            return each_sheet(ctx, uri, options, |out, df| {
                output::frame_head(out, df, lines)
            })
            .await;
        }
        // Parquet: the footer and the first row groups, by range. Arrow IPC: the footer and
        // the first record batches. Plain CSV, TSV and NDJSON: a prefix that holds the rows.
        let format = self
            .read
            .format
            .unwrap_or_else(|| Format::from_key(uri.key()));
        let by_prefix: ReadOptions = if format == Format::NDJSON {
            ReadOptions::ndjson().format(format).n_rows(lines).into()
        } else {
            self.read.csv_options().n_rows(lines).into()
        };
        let ipc: ReadOptions = ReadOptions::ipc().format(format).n_rows(lines).into();
        let options = if options.parquet_projection(uri.key()).is_some() {
            ReadOptions::parquet()
                .format(Format::PARQUET)
                .n_rows(lines)
                .into()
        } else if ipc.ipc_rows(uri.key()).is_some() {
            ipc
        } else if by_prefix.row_prefix(uri.key()).is_some() {
            by_prefix
        } else {
            options
        };
        let s3 = ctx.bars.connector(&ctx.s3, uri.to_string());
        let data = s3.download_with(uri.bucket(), uri.key(), options).await?;
        output::data_head(&mut io::stdout(), data, lines).map_err(stdout_failed)
    }
}

/// Downloads a workbook and shows every sheet with `show`, each under its name (`head` and
/// `schema` with `--all-sheets`).
pub async fn each_sheet(
    ctx: &Context,
    uri: &S3Uri,
    options: ReadOptions,
    show: impl Fn(&mut io::Stdout, &DataFrame) -> io::Result<()>,
) -> Outcome {
    let s3 = ctx.bars.connector(&ctx.s3, uri.to_string());
    let sheets = s3
        .download_sheets_with(uri.bucket(), uri.key(), options)
        .await?;
    let mut out = io::stdout();
    for (i, (name, df)) in sheets.iter().enumerate() {
        let gap = if i == 0 { "" } else { "\n" };
        writeln!(out, "{gap}{name}:").map_err(stdout_failed)?;
        show(&mut out, df).map_err(stdout_failed)?;
    }
    Ok(())
}
