//! Options per call: [`ReadOptions`] and [`WriteOptions`], and the connector verbs that take
//! them ([`S3Connector::download_with`], [`S3Connector::upload_with`]) or need a workbook
//! ([`S3Connector::download_sheets`], [`S3Connector::upload_sheets`]).
//!
//! Both option types are consuming builders. Start from the format family you expect
//! ([`ReadOptions::csv`], [`ReadOptions::excel`], ...) or from [`ReadOptions::new`], and set
//! only what differs from the defaults. Options of one family used on a key of another
//! (CSV options on `report.xlsx`) are an [`ErrorKind::InvalidInput`] error, not ignored.

use std::borrow::Borrow;

use polars::prelude::{DataFrame, DataType};

use crate::error::{Error, ErrorKind, Result};
use crate::format::Format;
use crate::format::compression::Compression;
use crate::format::encoding::Encoding;
use crate::limits::{Limits, OutputBudget};
use crate::settings::{PickleLayout, ReadSettings, SheetRef, WriteSettings};

/// Which formats a set of options was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// CSV and TSV.
    Delimited,
    /// Workbooks: xlsx, xlsm, xlsb, xls, ods.
    Excel,
    /// Pickles (write options only).
    Pickle,
    /// Parquet (read options only).
    Parquet,
    /// Newline-delimited JSON (read options only).
    Ndjson,
    /// Arrow IPC files and streams (read options only).
    Ipc,
}

impl Family {
    /// Whether `format` belongs to the family.
    pub(crate) fn contains(self, format: Format) -> bool {
        match self {
            Family::Delimited => [Format::CSV, Format::TSV].contains(&format),
            Family::Excel => Format::WORKBOOKS.contains(&format),
            Family::Pickle => format == Format::PICKLE,
            Family::Parquet => format == Format::PARQUET,
            Family::Ndjson => format == Format::NDJSON,
            Family::Ipc => format == Format::IPC,
        }
    }

    /// The format to use when neither the key nor the Content-Type names one.
    pub(crate) fn default_format(self) -> Format {
        match self {
            Family::Delimited => Format::CSV,
            Family::Excel => Format::EXCEL,
            Family::Pickle => Format::PICKLE,
            Family::Parquet => Format::PARQUET,
            Family::Ndjson => Format::NDJSON,
            Family::Ipc => Format::IPC,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Family::Delimited => "CSV/TSV",
            Family::Excel => "Excel",
            Family::Pickle => "pickle",
            Family::Parquet => "Parquet",
            Family::Ndjson => "NDJSON",
            Family::Ipc => "Arrow IPC",
        }
    }
}

/// How to read one object: the format and compression when the key does not say, the text
/// encoding and the limits. Options of one format family have their own type, made by
/// [`ReadOptions::csv`] ([`CsvReadOptions`]) and [`ReadOptions::excel`]
/// ([`ExcelReadOptions`]), so that an option that does not apply does not compile; every verb
/// that takes `ReadOptions` takes those too. Names follow polars where polars has the concept.
///
/// ```
/// use s3io_formats::{Encoding, Format, ReadOptions};
/// use s3io_formats::polars::prelude::DataType;
///
/// let csv = ReadOptions::csv()
///     .separator(b';')
///     .skip_rows(1) // lines before the header, as in polars
///     .null_values(["NA", ""])
///     .schema_overrides([("zip", DataType::String)])
///     .infer_schema_length(Some(1000))
///     .encoding(Encoding::Windows1252);
/// let sheet = ReadOptions::excel().sheet_name("Data").header_row(2).skip_rows_after_header(1);
/// let untitled = ReadOptions::new().format(Format::PARQUET);
/// # let _ = (csv, sheet, untitled);
/// ```
///
/// A CSV option on workbook options does not compile:
///
/// ```compile_fail
/// let sheet = s3io_formats::ReadOptions::excel().separator(b';');
/// ```
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub(crate) format: Option<Format>,
    pub(crate) family: Option<Family>,
    pub(crate) compression: Option<Option<Compression>>,
    pub(crate) encoding: Option<Encoding>,
    /// What the codec is told.
    pub(crate) settings: ReadSettings,
}

impl ReadOptions {
    /// The defaults: everything decided by the key, then the Content-Type.
    pub fn new() -> Self {
        Self::default()
    }

    /// These options, with the limits left unset taken from `fallback` (a connector's).
    #[doc(hidden)]
    pub fn with_fallback_limits(mut self, fallback: Limits) -> Self {
        self.settings.limits = self.settings.limits.or(fallback);
        self
    }

    /// The limits in effect for these options.
    #[doc(hidden)]
    pub fn limits_in_effect(&self) -> Limits {
        self.settings.limits
    }

    /// Options whose clones all charge one output budget (see
    /// [`Limits::max_decoded_size`]): a call that decodes many objects is bounded as a whole.
    #[doc(hidden)]
    pub fn with_shared_budget(mut self) -> Self {
        self.settings.budget = Some(OutputBudget::new(&self.settings.limits));
        self
    }

    /// Charges `bytes` that decoding is about to produce to the call's output budget (see
    /// [`Limits::max_decoded_size`]); `what` says what they are, for the error.
    #[doc(hidden)]
    pub fn charge_output(&self, bytes: u64, what: impl FnOnce() -> String) -> Result<()> {
        self.settings.charge_output(bytes, what)
    }

    /// Options for CSV and TSV. A key whose extension and Content-Type name no format is
    /// read as CSV.
    pub fn csv() -> CsvReadOptions {
        CsvReadOptions(ReadOptions {
            family: Some(Family::Delimited),
            ..Self::default()
        })
    }

    /// Options for workbooks (xlsx, xlsm, xlsb, xls, ods). A key whose extension and
    /// Content-Type name no format is read as a workbook of any of these kinds.
    pub fn excel() -> ExcelReadOptions {
        ExcelReadOptions(ReadOptions {
            family: Some(Family::Excel),
            ..Self::default()
        })
    }

    /// Options for Parquet: which columns and how many rows to read. A key whose extension
    /// and Content-Type name no format is read as Parquet.
    pub fn parquet() -> ParquetReadOptions {
        ParquetReadOptions(ReadOptions {
            family: Some(Family::Parquet),
            ..Self::default()
        })
    }

    /// Options for newline-delimited JSON (`.jsonl`, `.ndjson`): which columns and how many
    /// rows to read. A key whose extension and Content-Type name no format is read as NDJSON.
    pub fn ndjson() -> NdjsonReadOptions {
        NdjsonReadOptions(ReadOptions {
            family: Some(Family::Ndjson),
            ..Self::default()
        })
    }

    /// Options for Arrow IPC files and streams (`.arrow`, `.feather`, `.ipc`): which columns
    /// and how many rows to read. A key whose extension and Content-Type name no format is
    /// read as Arrow IPC.
    pub fn ipc() -> IpcReadOptions {
        IpcReadOptions(ReadOptions {
            family: Some(Family::Ipc),
            ..Self::default()
        })
    }

    /// An error if the options were made for another family than `format`.
    pub(crate) fn check_family(&self, format: Format) -> Result<()> {
        check_family(self.family, format)
    }

    /// The columns and the number of rows asked for, when these options read `key` as plain
    /// Parquet (not compressed, by the key or by these options): what a reader by range
    /// needs to know.
    #[doc(hidden)]
    pub fn parquet_projection(&self, key: &str) -> Option<(Option<Vec<String>>, Option<usize>)> {
        (self.plain_format(key) == Some(Format::PARQUET))
            .then(|| (self.settings.columns.clone(), self.settings.n_rows))
    }

    /// The format these options read `key` in, when they read it without decompressing:
    /// by the options, else by the key's extension.
    pub(crate) fn plain_format(&self, key: &str) -> Option<Format> {
        let compressed = match self.compression {
            Some(compression) => compression.is_some(),
            None => Compression::from_key(key).is_some(),
        };
        let format = self.format.or_else(|| Format::from_key_extension(key));
        format.filter(|_| !compressed)
    }
}

impl ReadOptions {
    /// The rows asked for, when these options read `key` as a plain (uncompressed) Arrow IPC
    /// file with `n_rows`: what a reader by range needs to know.
    #[doc(hidden)]
    pub fn ipc_rows(&self, key: &str) -> Option<usize> {
        let ipc = self.plain_format(key) == Some(Format::IPC);
        self.settings.n_rows.filter(|_| ipc)
    }

    /// How to read a plain CSV, TSV or NDJSON object given `n_rows` from a prefix of its
    /// bytes, or `None` when it must be read whole: another format, compressed, UTF-16, or
    /// no `n_rows`.
    pub fn row_prefix(&self, key: &str) -> Option<RowPrefix> {
        let format = self.plain_format(key)?;
        let utf16 = matches!(self.encoding, Some(Encoding::Utf16Le | Encoding::Utf16Be));
        let quoted = [Format::CSV, Format::TSV].contains(&format);
        let lines = quoted || format == Format::NDJSON;
        let rows = self.settings.n_rows;
        let rows = rows.filter(|_| lines && !utf16)?;
        Some(RowPrefix {
            settings: self.settings.clone(),
            quoted,
            rows,
        })
    }
}

/// A plan to read a CSV, TSV or NDJSON object's first rows from a prefix of its bytes, from
/// [`ReadOptions::row_prefix`]: fetch a prefix, cut it with [`RowPrefix::end`], decode; when
/// the rows decoded fall short (CSV fields with line breaks, blank lines), ask `end` for
/// more.
#[derive(Debug, Clone)]
pub struct RowPrefix {
    /// Where the skipped lines, the header and the skipped rows are.
    settings: ReadSettings,
    /// Whether fields may be quoted and hold line breaks (CSV, TSV), or every line break ends
    /// a record (NDJSON, where a JSON string cannot hold one).
    quoted: bool,
    /// The rows asked for.
    pub rows: usize,
}

impl RowPrefix {
    /// Where a prefix of the object holding the lines before its first row and then
    /// `rows + extra` rows ends: just after a line break outside any quoted field, so that
    /// the rows before it are whole. `None` when `bytes` do not hold that many lines yet. A
    /// UTF-16 text (by its BOM) never has an end: it must be read whole.
    pub fn end(&self, bytes: &[u8], extra: usize) -> Option<usize> {
        if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            return None;
        }
        let rows = self.rows + extra;
        if self.quoted {
            crate::format::csv::rows_end(bytes, &self.settings, rows)
        } else {
            crate::format::csv::end_after_lines(bytes, rows, None)
        }
    }
}

/// The setters every kind of read options has, written once.
macro_rules! common_read_options {
    ($type:ty, $inner:ident => $get:expr) => {
        impl $type {
            /// Reads the object in `format`, whatever its key's extension or Content-Type say.
            pub fn format(mut self, format: Format) -> Self {
                let $inner = &mut self;
                $get.format = Some(format);
                self
            }

            /// Decompresses with `compression` (`None`: not at all), whatever the key's suffix
            /// says.
            pub fn compression(mut self, compression: Option<Compression>) -> Self {
                let $inner = &mut self;
                $get.compression = Some(compression);
                self
            }

            /// The most bytes decompression may produce. The default is 100 times the
            /// object's size, and at least 64 MiB. A shorthand for
            /// [`Limits::max_decompressed_size`].
            pub fn max_decompressed_size(mut self, bytes: u64) -> Self {
                let $inner = &mut self;
                $get.settings.limits = $get.settings.limits.max_decompressed_size(bytes);
                self
            }

            /// Limits for this call: the ones set in `limits` replace the connector's (see
            /// `S3Connector::with_limits` in s3io); the others stay as they are.
            pub fn limits(mut self, limits: Limits) -> Self {
                let $inner = &mut self;
                $get.settings.limits = limits.or($get.settings.limits);
                self
            }

            /// The encoding of text formats when the object has no byte-order mark. UTF-8 and
            /// UTF-16 with a BOM are always recognised; Latin-1 and Windows-1252 only when
            /// asked for.
            pub fn encoding(mut self, encoding: Encoding) -> Self {
                let $inner = &mut self;
                $get.encoding = Some(encoding);
                self
            }
        }
    };
}

/// `columns` and `n_rows` for the families that read less, each with its own doc.
macro_rules! columns_and_rows {
    ($type:ty, $columns:expr, $rows:expr) => {
        impl $type {
            #[doc = $columns]
            pub fn columns<S: Into<String>>(
                mut self,
                columns: impl IntoIterator<Item = S>,
            ) -> Self {
                self.0.settings.columns = Some(columns.into_iter().map(Into::into).collect());
                self
            }

            #[doc = $rows]
            pub fn n_rows(mut self, rows: usize) -> Self {
                self.0.settings.n_rows = Some(rows);
                self
            }
        }
    };
}

common_read_options!(ReadOptions, options => options);
common_read_options!(CsvReadOptions, options => options.0);
common_read_options!(ExcelReadOptions, options => options.0);
common_read_options!(ParquetReadOptions, options => options.0);
common_read_options!(NdjsonReadOptions, options => options.0);
common_read_options!(IpcReadOptions, options => options.0);

/// Options for reading CSV and TSV, from [`ReadOptions::csv`]; names as polars' CSV reader
/// has them. Every verb that takes [`ReadOptions`] takes these.
///
/// ```
/// use s3io_formats::{Data, Format, ReadOptions};
///
/// let export = "# exported 2024-01-15\nzip;n\nskipped;0\n01234;1\n";
/// let options = ReadOptions::csv().separator(b';').skip_rows(1).skip_rows_after_header(1);
/// let df = Format::CSV.decode_frame_with(export, options)?;
/// assert_eq!(df.shape(), (1, 2));
/// # Ok::<(), s3io_formats::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct CsvReadOptions(ReadOptions);

impl CsvReadOptions {
    /// The field separator; `,` for CSV and tab for TSV by default.
    pub fn separator(mut self, separator: u8) -> Self {
        self.0.settings.separator = Some(separator);
        self
    }

    /// Whether the first line read holds column names (default `true`). Without one, columns
    /// are named `column_1`, `column_2`, ...
    pub fn has_header(mut self, has_header: bool) -> Self {
        self.0.settings.has_header = Some(has_header);
        self
    }

    /// Lines to skip before the header (or before the first row without one), as polars'
    /// `skip_rows` and pandas' `skiprows=n` do.
    pub fn skip_rows(mut self, lines: usize) -> Self {
        self.0.settings.header_row = Some(lines);
        self
    }

    /// Rows to skip after the header, before the data, as polars' `skip_rows_after_header`.
    pub fn skip_rows_after_header(mut self, rows: usize) -> Self {
        self.0.settings.skip_rows_after_header = rows;
        self
    }

    /// More field values that mean "missing", besides the empty field and pandas' default
    /// tokens (`NA`, `N/A`, `NaN`, `null`, ...: see [`keep_default_na`](Self::keep_default_na)),
    /// as pandas' `na_values`.
    pub fn null_values<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.0.settings.null_values = values.into_iter().map(Into::into).collect();
        self
    }

    /// Whether pandas' default missing-value tokens read as nulls (default `true`), as pandas'
    /// `keep_default_na`: `''`, `#N/A`, `#N/A N/A`, `#NA`, `-1.#IND`, `-1.#QNAN`, `-NaN`,
    /// `-nan`, `1.#IND`, `1.#QNAN`, `<NA>`, `N/A`, `NA`, `NULL`, `NaN`, `None`, `n/a`, `nan`,
    /// `null`. With `false`, only the empty field and the [`null_values`](Self::null_values)
    /// given are nulls, as in polars.
    pub fn keep_default_na(mut self, keep: bool) -> Self {
        self.0.settings.keep_default_na = Some(keep);
        self
    }

    /// Dtypes for named columns instead of inferred ones, e.g. zip codes as text.
    pub fn schema_overrides<S: Into<String>>(
        mut self,
        columns: impl IntoIterator<Item = (S, DataType)>,
    ) -> Self {
        self.0.settings.schema_overrides = columns
            .into_iter()
            .map(|(name, dtype)| (name.into(), dtype))
            .collect();
        self
    }

    /// Rows read to infer dtypes, as polars' `infer_schema_length`: `Some(n)` the first `n`,
    /// `None` every row. By default the first 10,000, then every row when a later one does
    /// not fit, which matches pandas' whole-file inference.
    pub fn infer_schema_length(mut self, rows: Option<usize>) -> Self {
        self.0.settings.infer_schema_length = Some(rows);
        self
    }

    /// Numbers use a decimal comma (`3,14`), as European Excel exports them, usually with
    /// `separator(b';')` (default `false`). pandas calls it `decimal=","`.
    pub fn decimal_comma(mut self, decimal_comma: bool) -> Self {
        self.0.settings.decimal_comma = decimal_comma;
        self
    }
}

columns_and_rows!(
    CsvReadOptions,
    "Read only these columns, in this order (polars' `columns`, pandas' `usecols`). A name \
     the header does not have is an [`ErrorKind::InvalidInput`] error.",
    "Read only the first `rows` rows (polars' `n_rows`, pandas' `nrows`); dtypes are then \
     inferred from those rows, as pandas does, unless \
     [`infer_schema_length`](Self::infer_schema_length) says otherwise. In s3io, a plain \
     (uncompressed) CSV or TSV object read with `n_rows` is fetched by range from its start, \
     only as far as those rows reach."
);

/// Options for reading newline-delimited JSON (`.jsonl`, `.ndjson`), from
/// [`ReadOptions::ndjson`]; names as polars' `read_ndjson` has them. Every verb that takes
/// [`ReadOptions`] takes these.
///
/// ```
/// use s3io_formats::{Format, ReadOptions};
///
/// let log = "{\"level\":\"info\",\"ms\":3}\n{\"level\":\"warn\",\"ms\":9}\n";
/// let options = ReadOptions::ndjson().n_rows(1).columns(["ms"]);
/// let first = Format::NDJSON.decode_frame_with(log, options)?;
/// assert_eq!(first.shape(), (1, 1));
/// # Ok::<(), s3io_formats::Error>(())
/// ```
///
/// ```compile_fail
/// let lines = s3io_formats::ReadOptions::ndjson().separator(b';');
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct NdjsonReadOptions(ReadOptions);

columns_and_rows!(
    NdjsonReadOptions,
    "Read only these keys as columns, in this order (polars' `columns`). A key no record read \
     has is an [`ErrorKind::InvalidInput`] error.",
    "Read only the first `rows` records (polars' `n_rows`); dtypes come from those records. \
     In s3io, a plain (uncompressed) NDJSON object read with `n_rows` is fetched by range from \
     its start, only as far as those records reach."
);

/// Options for reading Arrow IPC files and streams (Feather v2: `.arrow`, `.feather`,
/// `.ipc`), from [`ReadOptions::ipc`]; names as polars' `read_ipc` has them. Every verb that
/// takes [`ReadOptions`] takes these.
///
/// ```
/// use s3io_formats::ReadOptions;
///
/// let first = ReadOptions::ipc().columns(["city"]).n_rows(10);
/// # let _ = first;
/// ```
///
/// ```compile_fail
/// let ipc = s3io_formats::ReadOptions::ipc().separator(b';');
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct IpcReadOptions(ReadOptions);

columns_and_rows!(
    IpcReadOptions,
    "Read only these top-level columns, in this order (polars' `columns`). A name the file \
     does not have is an [`ErrorKind::InvalidInput`] error.",
    "Read only the first `rows` rows (polars' `n_rows`). In s3io, a plain (uncompressed) \
     Arrow IPC file read with `n_rows` is fetched by range: its footer, then the record \
     batches from the start only as far as those rows reach."
);

/// Options for reading workbooks (xlsx, xlsm, xlsb, xls, ods), from [`ReadOptions::excel`].
/// Every verb that takes [`ReadOptions`] takes these.
#[derive(Debug, Clone)]
#[must_use]
pub struct ExcelReadOptions(ReadOptions);

impl ExcelReadOptions {
    /// Read the sheet named `name` instead of the first (polars' and pandas' `sheet_name`).
    pub fn sheet_name(mut self, name: impl Into<String>) -> Self {
        self.0.settings.sheet = Some(SheetRef::Name(name.into()));
        self
    }

    /// Read the sheet at 0-based position `index` instead of the first.
    pub fn sheet_index(mut self, index: usize) -> Self {
        self.0.settings.sheet = Some(SheetRef::Index(index));
        self
    }

    /// Whether the header row holds column names (default `true`). Without one, columns are
    /// named `column_1`, `column_2`, ...
    pub fn has_header(mut self, has_header: bool) -> Self {
        self.0.settings.has_header = Some(has_header);
        self
    }

    /// The 0-based row of the header, counted from the sheet's top (Excel's row 3 is
    /// `header_row(2)`), as pandas' `header=`; rows above it are skipped. The default is the
    /// sheet's first non-empty row.
    pub fn header_row(mut self, row: usize) -> Self {
        self.0.settings.header_row = Some(row);
        self
    }

    /// Rows to skip after the header, before the data.
    pub fn skip_rows_after_header(mut self, rows: usize) -> Self {
        self.0.settings.skip_rows_after_header = rows;
        self
    }
}

columns_and_rows!(
    ExcelReadOptions,
    "Read only these columns of the sheet, by header name, in this order (pandas' `usecols`). \
     A name the sheet does not have is an [`ErrorKind::InvalidInput`] error. The workbook is \
     still downloaded whole: it is a zip archive.",
    "Read only the first `rows` rows after the header (pandas' `nrows`); dtypes are inferred \
     from those rows, as pandas does."
);

/// Options for reading Parquet, from [`ReadOptions::parquet`]; names as polars'
/// `read_parquet` has them. Every verb that takes [`ReadOptions`] takes these. In s3io, a
/// Parquet object read with `columns` or `n_rows` is fetched by range: its footer, then only
/// the column chunks of those columns in the row groups that hold those rows.
///
/// ```
/// use s3io_formats::ReadOptions;
///
/// let two = ReadOptions::parquet().columns(["city", "sales"]).n_rows(1000);
/// # let _ = two;
/// ```
///
/// ```compile_fail
/// let parquet = s3io_formats::ReadOptions::parquet().separator(b';');
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ParquetReadOptions(ReadOptions);

columns_and_rows!(
    ParquetReadOptions,
    "Read only these top-level columns, in this order (polars' `columns`). A name the file \
     does not have is an [`ErrorKind::InvalidInput`] error.",
    "Read only the first `rows` rows (polars' `n_rows`)."
);

impl From<ParquetReadOptions> for ReadOptions {
    fn from(options: ParquetReadOptions) -> Self {
        options.0
    }
}

impl From<&ParquetReadOptions> for ReadOptions {
    fn from(options: &ParquetReadOptions) -> Self {
        options.0.clone()
    }
}

impl From<IpcReadOptions> for ReadOptions {
    fn from(options: IpcReadOptions) -> Self {
        options.0
    }
}

impl From<&IpcReadOptions> for ReadOptions {
    fn from(options: &IpcReadOptions) -> Self {
        options.0.clone()
    }
}

impl From<NdjsonReadOptions> for ReadOptions {
    fn from(options: NdjsonReadOptions) -> Self {
        options.0
    }
}

impl From<&NdjsonReadOptions> for ReadOptions {
    fn from(options: &NdjsonReadOptions) -> Self {
        options.0.clone()
    }
}

impl From<CsvReadOptions> for ReadOptions {
    fn from(options: CsvReadOptions) -> Self {
        options.0
    }
}

impl From<ExcelReadOptions> for ReadOptions {
    fn from(options: ExcelReadOptions) -> Self {
        options.0
    }
}

impl From<&ReadOptions> for ReadOptions {
    fn from(options: &ReadOptions) -> Self {
        options.clone()
    }
}

impl From<&CsvReadOptions> for ReadOptions {
    fn from(options: &CsvReadOptions) -> Self {
        options.0.clone()
    }
}

impl From<&ExcelReadOptions> for ReadOptions {
    fn from(options: &ExcelReadOptions) -> Self {
        options.0.clone()
    }
}

/// How to write one object: the format and compression when the key does not say. Options
/// of one format family have their own type, made by [`WriteOptions::csv`]
/// ([`CsvWriteOptions`]), [`WriteOptions::excel`] ([`ExcelWriteOptions`]) and
/// [`WriteOptions::pickle`] ([`PickleWriteOptions`]); every verb that takes `WriteOptions`
/// takes those too.
///
/// ```
/// use s3io_formats::WriteOptions;
///
/// let tabs = WriteOptions::csv().separator(b'\t').date_format("%d/%m/%Y").include_bom(true);
/// let report = WriteOptions::excel().sheet_name("Report").autofit(false);
/// # let _ = (tabs, report);
/// ```
///
/// ```compile_fail
/// let report = s3io_formats::WriteOptions::excel().separator(b';');
/// ```
///
/// ```compile_fail
/// let pickled = s3io_formats::WriteOptions::pickle().sheet_name("Report");
/// ```
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub(crate) format: Option<Format>,
    pub(crate) family: Option<Family>,
    pub(crate) compression: Option<Option<Compression>>,
    pub(crate) compression_level: Option<u32>,
    /// What the codec is told.
    pub(crate) settings: WriteSettings,
}

impl WriteOptions {
    /// The defaults: everything decided by the key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Options for CSV and TSV. A key whose extension names no format is written as CSV.
    pub fn csv() -> CsvWriteOptions {
        CsvWriteOptions(WriteOptions {
            family: Some(Family::Delimited),
            ..Self::default()
        })
    }

    /// Options for xlsx workbooks. A key whose extension names no format is written as xlsx.
    pub fn excel() -> ExcelWriteOptions {
        ExcelWriteOptions(WriteOptions {
            family: Some(Family::Excel),
            ..Self::default()
        })
    }

    /// Options for pickles: what a frame becomes. A key whose extension names no format is
    /// written as a pickle.
    pub fn pickle() -> PickleWriteOptions {
        PickleWriteOptions(WriteOptions {
            family: Some(Family::Pickle),
            ..Self::default()
        })
    }

    /// An error if the options were made for another family than `format`.
    pub(crate) fn check_family(&self, format: Format) -> Result<()> {
        check_family(self.family, format)
    }
}

/// The setters every kind of write options has, written once.
macro_rules! common_write_options {
    ($type:ty, $inner:ident => $get:expr) => {
        impl $type {
            /// Writes in `format`, whatever the key's extension says.
            pub fn format(mut self, format: Format) -> Self {
                let $inner = &mut self;
                $get.format = Some(format);
                self
            }

            /// Compresses with `compression` (`None`: not at all), whatever the key's suffix
            /// says.
            pub fn compression(mut self, compression: Option<Compression>) -> Self {
                let $inner = &mut self;
                $get.compression = Some(compression);
                self
            }

            /// The compression level, when the object is compressed: gzip and bzip2 1–9, zstd
            /// 1–22, xz 0–9. The default is each codec's usual one (gzip 6, zstd 3, bzip2 9,
            /// xz 6); a level out of range fails the upload with [`ErrorKind::InvalidInput`].
            pub fn compression_level(mut self, level: u32) -> Self {
                let $inner = &mut self;
                $get.compression_level = Some(level);
                self
            }
        }
    };
}

common_write_options!(WriteOptions, options => options);
common_write_options!(CsvWriteOptions, options => options.0);
common_write_options!(ExcelWriteOptions, options => options.0);
common_write_options!(PickleWriteOptions, options => options.0);

/// Options for writing CSV and TSV, from [`WriteOptions::csv`]; names as polars' CSV writer
/// has them. Every verb that takes [`WriteOptions`] takes these.
#[derive(Debug, Clone)]
#[must_use]
pub struct CsvWriteOptions(WriteOptions);

impl CsvWriteOptions {
    /// The field separator; `,` for CSV and tab for TSV by default.
    pub fn separator(mut self, separator: u8) -> Self {
        self.0.settings.separator = Some(separator);
        self
    }

    /// Write floats with a decimal comma (`3,14`), for European Excel; pair it with
    /// `separator(b';')`, or fields with a comma get quoted (default `false`).
    pub fn decimal_comma(mut self, decimal_comma: bool) -> Self {
        self.0.settings.decimal_comma = decimal_comma;
        self
    }

    /// Whether to write the header line (default `true`).
    pub fn include_header(mut self, include: bool) -> Self {
        self.0.settings.include_header = Some(include);
        self
    }

    /// How dates are written, as a chrono format (default `%Y-%m-%d`).
    pub fn date_format(mut self, format: impl Into<String>) -> Self {
        self.0.settings.date_format = Some(format.into());
        self
    }

    /// How datetimes are written, as a chrono format (default `%Y-%m-%d %H:%M:%S%.f`).
    pub fn datetime_format(mut self, format: impl Into<String>) -> Self {
        self.0.settings.datetime_format = Some(format.into());
        self
    }

    /// The text written for missing values (default: an empty field).
    pub fn null_value(mut self, text: impl Into<String>) -> Self {
        self.0.settings.null_value = Some(text.into());
        self
    }

    /// Start with a UTF-8 byte-order mark, which makes Windows Excel read UTF-8 (default
    /// `false`); polars' `include_bom`.
    pub fn include_bom(mut self, bom: bool) -> Self {
        self.0.settings.include_bom = bom;
        self
    }
}

/// Options for writing xlsx workbooks, from [`WriteOptions::excel`]. Every verb that takes
/// [`WriteOptions`] takes these.
#[derive(Debug, Clone)]
#[must_use]
pub struct ExcelWriteOptions(WriteOptions);

impl ExcelWriteOptions {
    /// The sheet's name (default `Sheet1`).
    pub fn sheet_name(mut self, name: impl Into<String>) -> Self {
        self.0.settings.sheet_name = Some(name.into());
        self
    }

    /// A bold header row (default `true`).
    pub fn bold_header(mut self, bold: bool) -> Self {
        self.0.settings.bold_header = Some(bold);
        self
    }

    /// Fit column widths to their contents (default `true`).
    pub fn autofit(mut self, autofit: bool) -> Self {
        self.0.settings.autofit = Some(autofit);
        self
    }

    /// Keep the header row in view when scrolling (default `true`).
    pub fn freeze_header(mut self, freeze: bool) -> Self {
        self.0.settings.freeze_header = Some(freeze);
        self
    }
}

/// Options for writing pickles, from [`WriteOptions::pickle`]. Every verb that takes
/// [`WriteOptions`] takes these.
#[derive(Debug, Clone)]
#[must_use]
pub struct PickleWriteOptions(WriteOptions);

impl PickleWriteOptions {
    /// What a frame becomes: a pandas DataFrame ([`PickleLayout::DataFrame`], the default) or
    /// a dict of lists of builtins ([`PickleLayout::DictOfLists`]). Values other than frames
    /// are pickled as they are either way.
    pub fn layout(mut self, layout: PickleLayout) -> Self {
        self.0.settings.pickle_layout = layout;
        self
    }
}

impl From<PickleWriteOptions> for WriteOptions {
    fn from(options: PickleWriteOptions) -> Self {
        options.0
    }
}

impl From<CsvWriteOptions> for WriteOptions {
    fn from(options: CsvWriteOptions) -> Self {
        options.0
    }
}

impl From<ExcelWriteOptions> for WriteOptions {
    fn from(options: ExcelWriteOptions) -> Self {
        options.0
    }
}

impl From<&WriteOptions> for WriteOptions {
    fn from(options: &WriteOptions) -> Self {
        options.clone()
    }
}

fn check_family(family: Option<Family>, format: Format) -> Result<()> {
    match family {
        Some(family) if !family.contains(format) => Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{} options were given, but the object is {format}; use ReadOptions::new() or \
                 WriteOptions::new() for other formats, or set the format",
                family.name()
            ),
        )),
        _ => Ok(()),
    }
}

/// Named frames as owned pairs, for the encoder on another thread.
#[doc(hidden)]
pub fn owned_sheets<K, F>(sheets: impl IntoIterator<Item = (K, F)>) -> Vec<(String, DataFrame)>
where
    K: AsRef<str>,
    F: Borrow<DataFrame>,
{
    sheets
        .into_iter()
        .map(|(name, df)| (name.as_ref().to_owned(), df.borrow().clone()))
        .collect()
}
