//! The argument types, parsers and checks that several commands share, as clap reads them.
//! Each command's own arguments are in its file under `commands/`; the top of the command
//! line (the program, its global options, the command) is in `cli.rs`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;
use clap::builder::{OsStringValueParser, TypedValueParser};
use s3io::{CsvReadOptions, Format, KeyPattern, ReadOptions, S3Uri, UploadOptions};

/// The layout of a command's help: its usage first, then what it does, then its arguments.
pub const COMMAND_HELP: &str = "\
{usage-heading} {usage}

{about-with-newline}
{before-help}{all-args}{after-help}";

/// `s3://bucket`, `s3://bucket/prefix` or `s3://bucket/key` (`S3://` and `s3a://` too).
pub fn s3_uri(text: &str) -> Result<S3Uri, String> {
    S3Uri::parse(text).map_err(|e| e.message().to_owned())
}

/// An `s3://bucket/key` naming one object: the key may not be empty.
pub fn object_uri(text: &str) -> Result<S3Uri, String> {
    let uri = s3_uri(text)?;
    if uri.key().is_empty() {
        return Err(format!("{text} names a bucket, not an object"));
    }
    Ok(uri)
}

/// The bucket of an `s3://bucket` that names no key.
pub fn bucket_name(text: &str) -> Result<String, String> {
    let uri = s3_uri(text)?;
    if !uri.key().is_empty() {
        return Err(format!("{text} names a key; give only s3://bucket"));
    }
    Ok(uri.bucket().to_owned())
}

/// A prefix as a folder: `data` becomes `data/`, so it never takes in `data2/`. Globs, the
/// bucket's root and prefixes already ending in `/` stay as they are (`cp` and `rm` with
/// `--recursive`).
pub fn as_folder(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') || KeyPattern::is_glob(prefix) {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    }
}

/// One side of a copy.
#[derive(Clone, Debug)]
pub enum Location {
    /// An object, or a prefix or glob with `--recursive`.
    S3(S3Uri),
    /// A local file or folder.
    Local(PathBuf),
    /// `-`: standard input as a source, standard output as a destination.
    Stdio,
}

impl Location {
    /// How clap reads a copy's SRC or DST: local paths need not be UTF-8.
    pub fn parser() -> impl TypedValueParser<Value = Location> {
        OsStringValueParser::new().try_map(Location::parse)
    }

    fn parse(text: OsString) -> Result<Location, String> {
        if text == "-" {
            return Ok(Location::Stdio);
        }
        match text.to_str() {
            Some(uri) if is_s3(uri) => Ok(Location::S3(s3_uri(uri)?)),
            _ => Ok(Location::Local(PathBuf::from(text))),
        }
    }
}

/// Whether a copy argument names S3 (`s3://`, `s3a://`, any case).
fn is_s3(text: &str) -> bool {
    let lower = text.get(..6).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("s3://") || lower.starts_with("s3a://")
}

/// How `cp`, `mv`, `rm` and `sync` say what they do.
#[derive(Args, Clone, Debug, Default)]
pub struct ReportArgs {
    /// Print what would be done, and change nothing
    #[arg(long)]
    pub dryrun: bool,

    /// Do not print a line per object
    #[arg(short, long)]
    pub quiet: bool,

    /// Print nothing but errors (on standard error, as always)
    #[arg(long)]
    pub only_show_errors: bool,
}

impl ReportArgs {
    /// Whether the line per object is left out. A dry run says what it would do all the
    /// same: that is what it is for.
    pub fn silent(&self) -> bool {
        (self.quiet || self.only_show_errors) && !self.dryrun
    }
}

/// What `cp`, `mv` and `sync` store with each object they upload or copy, as the AWS CLI
/// names it.
#[derive(Args, Clone, Debug, Default)]
pub struct UploadArgs {
    /// Server-side encryption: AES256 (a bare --sse) or aws:kms
    #[arg(
        long,
        value_name = "AES256|aws:kms",
        num_args = 0..=1,
        default_missing_value = "AES256",
        value_parser = ["AES256", "aws:kms"],
    )]
    pub sse: Option<String>,

    /// The KMS key (id, ARN or alias) of --sse aws:kms (implies it)
    #[arg(long, value_name = "KEY")]
    pub sse_kms_key_id: Option<String>,

    /// The storage class: STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, ...
    #[arg(long, value_name = "CLASS")]
    pub storage_class: Option<String>,

    /// The Content-Type of every object, whatever its name says
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,

    /// The Cache-Control header stored with every object
    #[arg(long, value_name = "VALUE")]
    pub cache_control: Option<String>,

    /// User metadata (x-amz-meta-*): KEY=VALUE, several separated by commas; repeatable
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value, value_delimiter = ',')]
    pub metadata: Vec<(String, String)>,
}

impl UploadArgs {
    pub fn check(&self) -> Result<(), String> {
        if self.sse.as_deref() == Some("AES256") && self.sse_kms_key_id.is_some() {
            return Err("--sse-kms-key-id is for --sse aws:kms, not AES256".to_owned());
        }
        Ok(())
    }

    /// The library's upload options for these arguments.
    pub fn options(&self) -> UploadOptions {
        let mut options = UploadOptions::new();
        options = match (self.sse.as_deref(), &self.sse_kms_key_id) {
            (_, Some(key)) => options.sse_kms(key),
            (Some("aws:kms"), None) => options.sse_kms_default_key(),
            (Some(_), None) => options.sse_s3(),
            (None, None) => options,
        };
        if let Some(class) = &self.storage_class {
            options = options.storage_class(class);
        }
        if let Some(content_type) = &self.content_type {
            options = options.content_type(content_type);
        }
        if let Some(cache_control) = &self.cache_control {
            options = options.cache_control(cache_control);
        }
        for (key, value) in &self.metadata {
            options = options.metadata(key, value);
        }
        options
    }
}

/// `KEY=VALUE`.
fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("--metadata wants KEY=VALUE, not {text:?}")),
    }
}

/// How to read an object: the options `head`, `schema` and `convert` share.
#[derive(Args, Clone, Debug, Default)]
pub struct ReadArgs {
    /// A workbook's sheet by name (default: the first)
    #[arg(long, value_name = "NAME", conflicts_with = "sheet_index")]
    pub sheet: Option<String>,

    /// A workbook's sheet by position, from 0
    #[arg(long, value_name = "N")]
    pub sheet_index: Option<usize>,

    /// Read as this format whatever the key says (csv, parquet, xlsx, ...)
    #[arg(long, value_name = "FORMAT", value_parser = format_named)]
    pub format: Option<Format>,

    /// The field separator of a csv or tsv (e.g. ';' or tab)
    #[arg(
        long,
        value_name = "CHAR",
        value_parser = separator,
        conflicts_with_all = ["sheet", "sheet_index"],
    )]
    pub separator: Option<u8>,

    /// Read pandas' missing-value tokens (NA, N/A, NaN, null, None, ...) in a csv or tsv as
    /// text, not as nulls (pandas' keep_default_na=False)
    #[arg(long, conflicts_with_all = ["sheet", "sheet_index"])]
    pub no_default_na: bool,
}

impl ReadArgs {
    /// The library's read options for these arguments.
    pub fn read_options(&self) -> ReadOptions {
        let options: ReadOptions = if let Some(name) = &self.sheet {
            ReadOptions::excel().sheet_name(name).into()
        } else if let Some(index) = self.sheet_index {
            ReadOptions::excel().sheet_index(index).into()
        } else if self.separator.is_some() || self.no_default_na {
            self.csv_options().into()
        } else {
            ReadOptions::new()
        };
        match self.format {
            Some(format) => options.format(format),
            None => options,
        }
    }

    /// The CSV/TSV options given (none: the defaults), with the format if one was given; for
    /// commands that add CSV options of their own, as `head` adds `n_rows`.
    pub fn csv_options(&self) -> CsvReadOptions {
        let csv = ReadOptions::csv().keep_default_na(!self.no_default_na);
        let csv = match self.separator {
            Some(separator) => csv.separator(separator),
            None => csv,
        };
        match self.format {
            Some(format) => csv.format(format),
            None => csv,
        }
    }

    /// Sheet options on a key that is no workbook, or a separator on one that is no csv,
    /// are mistakes of the command line; keys whose format the extension does not tell are
    /// left to the object's Content-Type.
    pub fn check_fits(&self, all_sheets: bool, uri: &S3Uri) -> Result<(), String> {
        let format = self.format.unwrap_or_else(|| Format::from_key(uri.key()));
        if format == Format::TEXT {
            return Ok(());
        }
        let sheets = self.sheet.is_some() || self.sheet_index.is_some() || all_sheets;
        if sheets && !Format::WORKBOOKS.contains(&format) {
            return Err(format!(
                "the sheet options are for workbooks (xlsx, xlsm, xlsb, xls, ods); {uri} is {format}"
            ));
        }
        let delimited = [Format::CSV, Format::TSV].contains(&format);
        if self.separator.is_some() && !delimited {
            return Err(format!("--separator is for csv and tsv; {uri} is {format}"));
        }
        if self.no_default_na && !delimited {
            return Err(format!(
                "--no-default-na is for csv and tsv; {uri} is {format}"
            ));
        }
        Ok(())
    }
}

/// A format by name (`parquet`) or by extension (`pq`, `xlsx`).
fn format_named(name: &str) -> Result<Format, String> {
    let bare = name.trim_start_matches('.');
    Format::from_extension(bare)
        .or_else(|| Format::all().find(|f| f.name().eq_ignore_ascii_case(bare)))
        .ok_or_else(|| {
            let known: Vec<&str> = Format::all().map(Format::name).collect();
            format!("unknown format {name:?}; formats: {}", known.join(", "))
        })
}

/// A field separator: one ASCII character, or `tab` (also `\t`).
fn separator(text: &str) -> Result<u8, String> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        one if one.len() == 1 => Ok(one.as_bytes()[0]),
        _ => Err(format!(
            "--separator wants one ASCII character (or 'tab'), not {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_formats_have_short_names() {
        assert_eq!(separator("tab"), Ok(b'\t'));
        assert_eq!(separator("\\t"), Ok(b'\t'));
        assert_eq!(separator(";"), Ok(b';'));
        assert!(separator("é").is_err());
        assert_eq!(format_named("pq").ok(), Some(Format::PARQUET));
        assert_eq!(format_named("Parquet").ok(), Some(Format::PARQUET));
        assert_eq!(format_named(".xlsx").ok(), Some(Format::EXCEL));
    }

    #[test]
    fn no_default_na_keeps_pandas_tokens_as_text() {
        let text = "a\nNA\n1\n";
        let read = |args: &ReadArgs| {
            let df = Format::CSV
                .decode_frame_with(text, args.read_options())
                .unwrap();
            df.column("a").unwrap().dtype().to_string()
        };
        assert_eq!(read(&ReadArgs::default()), "i64");
        let keep = ReadArgs {
            no_default_na: true,
            ..ReadArgs::default()
        };
        assert_eq!(read(&keep), "str");
        let uri = S3Uri::parse("s3://b/x.parquet").unwrap();
        assert!(
            keep.check_fits(false, &uri)
                .unwrap_err()
                .contains("--no-default-na")
        );
    }

    #[test]
    fn upload_settings_become_upload_options() {
        let args = UploadArgs {
            sse_kms_key_id: Some("alias/k".into()),
            storage_class: Some("STANDARD_IA".into()),
            metadata: vec![("a".into(), "1".into())],
            ..UploadArgs::default()
        };
        let want = UploadOptions::new()
            .sse_kms("alias/k")
            .storage_class("STANDARD_IA")
            .metadata("a", "1");
        assert_eq!(args.options(), want);
        assert_eq!(UploadArgs::default().options(), UploadOptions::default());
        assert_eq!(key_value("k=v=w"), Ok(("k".into(), "v=w".into())));
        assert!(key_value("novalue").is_err());
        let aes = UploadArgs {
            sse: Some("AES256".into()),
            sse_kms_key_id: Some("k".into()),
            ..UploadArgs::default()
        };
        assert!(aes.check().is_err());
    }

    #[test]
    fn prefixes_are_folders() {
        assert_eq!(as_folder("data"), "data/");
        assert_eq!(as_folder("data/"), "data/");
        assert_eq!(as_folder(""), "");
        assert_eq!(as_folder("logs/**/*.csv"), "logs/**/*.csv");
    }
}
