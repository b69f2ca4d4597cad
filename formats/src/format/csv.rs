//! `.csv` and `.tsv`: delimited text with a header row, read and written by polars. The two
//! differ only in their default separator.

use std::io::Cursor;
use std::sync::Arc;

use bytes::Bytes;
use polars::prelude::*;

use super::codec::{
    Codec, DecodeParts, PartsInto, cannot_encode, encode_error, encode_into_buffer, read_error,
};
use crate::data::Data;
use crate::error::Result;
use crate::settings::{ReadSettings, WriteSettings};

/// About how many bytes of text a CSV decoded in parts parses as one piece ([`parts`]): twice
/// [`PIECE_BYTES`](super::codec::PIECE_BYTES), because each piece's columns carry some
/// memory of their own. Pieces of 2, 4 and 8 MiB decoded the 1 GB benchmark CSV from s3s-fs
/// in the same time (4.3 to 4.6 s, within the noise; 3 runs each, 2026-12-03), at a peak of
/// 1763, 1695 and 1608 MiB; the 100 MB one in 0.521, 0.508 and 0.513 s (9 runs each), and in
/// 0.548 s with one piece per part.
const PIECE_BYTES_CSV: usize = 4 << 20;

/// Rows read to infer column types before parsing. When a later row does not fit, the file
/// is read again with every row inferred, so the result matches pandas' whole-file inference.
const INFER_ROWS: usize = 10_000;

mod na_tokens;
mod parts;

/// pandas' default `na_values`: the fields `pandas.read_csv` reads as missing unless told
/// `keep_default_na=False` (pandas/_libs/parsers.pyx, `STR_NA_VALUES`). An unquoted empty
/// field is missing in polars already; `""` is listed for the quoted empty field, which pandas
/// reads as missing too.
pub(crate) const PANDAS_NA_VALUES: [&str; 19] = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// What polars' CSV reader spends on each column before its first value, about: 100,000
/// columns take some 140 MiB however few rows follow. Charged to the output budget with the
/// bytes of the table, so that a small file cannot ask for gigabytes by width alone.
const COLUMN_BYTES: u64 = 1536;

/// The number of fields on line `line` (0-based) of delimited text: separators outside
/// double quotes, plus one. A quoted field may span lines; that line then counts on.
fn header_width(bytes: &[u8], line: usize, separator: u8) -> u64 {
    let mut rest = bytes;
    for _ in 0..line {
        match memchr_newline(rest) {
            Some(end) => rest = &rest[end + 1..],
            None => return 1,
        }
    }
    let mut fields = 1u64;
    let mut quoted = false;
    for &b in rest {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b if b == separator && !quoted => fields += 1,
            _ => {}
        }
    }
    fields
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// A delimited text format.
pub(crate) struct Delimited {
    name: &'static str,
    extensions: &'static [&'static str],
    content_type: &'static str,
    other_content_types: &'static [&'static str],
    separator: u8,
}

/// Comma-separated values.
pub(crate) static CSV: Delimited = Delimited {
    name: "csv",
    extensions: &["csv"],
    content_type: "text/csv; charset=utf-8",
    other_content_types: &["application/csv", "text/x-csv", "application/x-csv"],
    separator: b',',
};

/// Tab-separated values, as Excel's "Text (Tab delimited)" and many databases export them.
pub(crate) static TSV: Delimited = Delimited {
    name: "tsv",
    extensions: &["tsv", "tab"],
    content_type: "text/tab-separated-values; charset=utf-8",
    other_content_types: &[],
    separator: b'\t',
};

impl Codec for Delimited {
    fn name(&self) -> &'static str {
        self.name
    }

    fn extensions(&self) -> &'static [&'static str] {
        self.extensions
    }

    fn content_type(&self) -> &'static str {
        self.content_type
    }

    fn other_content_types(&self) -> &'static [&'static str] {
        self.other_content_types
    }

    fn is_text(&self) -> bool {
        true
    }

    fn decode(&self, bytes: Bytes, options: &ReadSettings) -> Result<Data> {
        self.decode_frame(bytes, options).map(Data::Frame)
    }

    fn decode_frame(&self, mut bytes: Bytes, options: &ReadSettings) -> Result<DataFrame> {
        // With n_rows, the text past those rows is not parsed at all, as in pandas.
        if let Some(end) = options
            .n_rows
            .and_then(|rows| rows_end(&bytes, options, rows))
        {
            bytes.truncate(end);
        }
        self.charge_table(&bytes, options)?;
        // With n_rows, dtypes come from those rows (pandas' `nrows`), whether the object
        // came whole or as a prefix.
        match (options.infer_schema_length, options.n_rows) {
            (Some(rows), _) => self.read(bytes, rows, options),
            (None, Some(n_rows)) => self.read(bytes, Some(n_rows.max(1)), options),
            (None, None) => self
                .read(bytes.clone(), Some(INFER_ROWS), options)
                .or_else(|_| self.read(bytes, None, options)),
        }
        .map_err(|e| self.read_error(e))
    }

    /// A frame either way.
    fn part_decoder(
        &'static self,
        options: &ReadSettings,
        _: PartsInto,
    ) -> Option<Box<dyn DecodeParts>> {
        parts::DelimitedParts::new(self, options, INFER_ROWS, PIECE_BYTES_CSV)
            .map(|parts| Box::new(parts) as Box<dyn DecodeParts>)
    }

    fn encode(&self, data: &Data, options: &WriteSettings) -> Result<Vec<u8>> {
        encode_into_buffer(self, data, options)
    }

    fn writes_in_parts(&self) -> bool {
        true
    }

    fn encode_to(
        &self,
        data: &Data,
        options: &WriteSettings,
        out: &mut dyn std::io::Write,
    ) -> Result<()> {
        let Data::Frame(df) = data else {
            return Err(cannot_encode(data, self.name, "a frame"));
        };
        let datetime_format = options
            .datetime_format
            .as_deref()
            .unwrap_or("%Y-%m-%d %H:%M:%S%.f");
        let mut writer = CsvWriter::new(out)
            .include_header(options.include_header.unwrap_or(true))
            .include_bom(options.include_bom)
            .with_decimal_comma(options.decimal_comma)
            .with_separator(options.separator.unwrap_or(self.separator))
            .with_datetime_format(Some(datetime_format.into()))
            .with_date_format(options.date_format.as_deref().map(Into::into));
        if let Some(null) = &options.null_value {
            writer = writer.with_null_value(null.into());
        }
        writer
            .finish(&mut df.clone())
            .map_err(|e| encode_error(&format!("cannot write {}", self.name), e))
    }
}

impl Delimited {
    /// Charges what parsing `bytes`, a table starting with its header, is about to produce:
    /// the text, and [`COLUMN_BYTES`] for each column of the header.
    fn charge_table(&self, bytes: &[u8], options: &ReadSettings) -> Result<()> {
        let separator = options.separator.unwrap_or(self.separator);
        let columns = header_width(bytes, options.header_row.unwrap_or(0), separator);
        options.charge_output(
            columns
                .saturating_mul(COLUMN_BYTES)
                .saturating_add(bytes.len() as u64),
            || format!("{columns} columns of {} bytes", bytes.len()),
        )
    }

    /// The error for text that does not parse as this format.
    fn read_error(&self, e: PolarsError) -> crate::Error {
        read_error(
            &format!("not a valid {} table", self.name.to_ascii_uppercase()),
            e,
        )
    }

    /// The null tokens `options` ask for, for parsing `bytes`: pandas' defaults unless
    /// `keep_default_na` is off (only those `bytes` may hold as a field: see [`na_tokens`]),
    /// and the `null_values` given.
    fn null_tokens(options: &ReadSettings, bytes: &[u8], separator: u8) -> Vec<PlSmallStr> {
        let defaults = match options.keep_default_na {
            Some(false) => Vec::new(),
            _ => na_tokens::default_na_tokens_in(bytes, separator),
        };
        defaults
            .into_iter()
            .map(PlSmallStr::from_static)
            .chain(options.null_values.iter().map(|s| s.as_str().into()))
            .collect()
    }

    /// Parses records with no header into `schema`: the rows of a table after its first
    /// chunk, when it is decoded in parts ([`parts`]). `bytes` hold no lone-quote field (see
    /// [`has_lone_quote_field`]). On one thread: a piece is small, and splitting it across
    /// polars' threads cost more than it gave (5 in-memory decodes of the 100 MB benchmark
    /// CSV in 8 MiB parts: 2.85 to 2.98 s of CPU on one thread, 3.62 to 3.90 s on two, and
    /// less wall time too); the cores are used by parsing several pieces at once.
    fn read_rows(
        &self,
        bytes: Bytes,
        schema: SchemaRef,
        options: &ReadSettings,
    ) -> PolarsResult<DataFrame> {
        let separator = options.separator.unwrap_or(self.separator);
        let tokens = Self::null_tokens(options, &bytes, separator);
        let null_values = (!tokens.is_empty()).then(|| null_values(tokens));
        CsvReadOptions::default()
            .with_has_header(false)
            .with_n_threads(Some(1))
            .with_schema(Some(schema))
            .map_parse_options(|parse| {
                parse
                    .with_separator(separator)
                    .with_null_values(null_values.clone())
                    .with_decimal_comma(options.decimal_comma)
            })
            .into_reader_with_file_handle(Cursor::new(bytes))
            .finish()
    }

    /// Parses a whole file held in memory, inferring types from the first `infer_rows` rows
    /// (all rows with `None`).
    fn read(
        &self,
        bytes: Bytes,
        infer_rows: Option<usize>,
        options: &ReadSettings,
    ) -> PolarsResult<DataFrame> {
        let overrides = (!options.schema_overrides.is_empty()).then(|| {
            let fields = options
                .schema_overrides
                .iter()
                .map(|(name, dtype)| Field::new(name.into(), dtype.clone()));
            Arc::new(Schema::from_iter(fields))
        });
        let separator = options.separator.unwrap_or(self.separator);
        let tokens = Self::null_tokens(options, &bytes, separator);
        // Tokens polars cannot be trusted with on this text are applied after parsing.
        let (null_values, tokens_after) = if tokens.is_empty() {
            (None, Vec::new())
        } else if has_lone_quote_field(&bytes, separator) {
            (None, tokens)
        } else {
            (Some(null_values(tokens)), Vec::new())
        };
        CsvReadOptions::default()
            .with_has_header(options.has_header.unwrap_or(true))
            .with_skip_rows(options.header_row.unwrap_or(0))
            .with_skip_rows_after_header(options.skip_rows_after_header)
            .with_infer_schema_length(infer_rows)
            .with_schema_overwrite(overrides)
            .map_parse_options(|parse| {
                parse
                    .with_separator(separator)
                    .with_null_values(null_values.clone())
                    .with_decimal_comma(options.decimal_comma)
            })
            .with_n_rows(options.n_rows)
            .with_columns(
                options
                    .columns
                    .as_ref()
                    .map(|names| names.iter().map(|n| PlSmallStr::from(n.as_str())).collect()),
            )
            .into_reader_with_file_handle(Cursor::new(bytes))
            .finish()
            .and_then(|df| null_tokens_after_parsing(df, &tokens_after))
            .and_then(|df| match &options.columns {
                // polars keeps the file's order; the caller's order is asked for.
                Some(names) => df.select(names.iter().map(String::as_str)),
                None => Ok(df),
            })
    }
}

/// Where the text holding the first `rows` rows that `options` read ends (the lines skipped
/// before the header, the header, the rows skipped after it, then `rows`); see
/// [`end_after_lines`].
pub(crate) fn rows_end(bytes: &[u8], options: &ReadSettings, rows: usize) -> Option<usize> {
    let header = usize::from(options.has_header.unwrap_or(true));
    let before = options.header_row.unwrap_or(0) + header + options.skip_rows_after_header;
    end_after_lines(bytes, before + rows, Some(b'"'))
}

/// Where the first `lines` lines of text end: just past the first line break after them
/// that is outside any field quoted with `quote` (RFC 4180 doubles a quote inside a quoted
/// field, so an even count of quotes before a line break means it is outside). `None` when
/// `bytes` hold fewer lines. Used to decode a prefix of an object whose first rows are wanted.
pub(crate) fn end_after_lines(bytes: &[u8], lines: usize, quote: Option<u8>) -> Option<usize> {
    let mut seen = 0usize;
    let mut quotes = 0usize;
    let mut from = 0usize;
    for at in memchr::memchr_iter(b'\n', bytes) {
        if let Some(quote) = quote {
            quotes += memchr::memchr_iter(quote, &bytes[from..at]).count();
        }
        from = at;
        if quotes % 2 == 1 {
            continue;
        }
        seen += 1;
        if seen >= lines {
            return Some(at + 1);
        }
    }
    None
}

/// Whether some field of `bytes` may be a lone quote: a `"` with nothing but a separator, a
/// line end or the text's end before it, and a separator, a line end, `\r` or the text's end
/// after it. When polars-io 0.55 compares such a field with null values it slices it as
/// `1..0` (csv/read/parser.rs:1154): undefined behaviour, which aborts a debug build. Text
/// where one may occur (a quoted field ending in a separator or line end looks alike, so the
/// test errs on the safe side) is parsed without polars' null values.
fn has_lone_quote_field(bytes: &[u8], separator: u8) -> bool {
    let field_end = |byte: Option<&u8>| match byte {
        None | Some(b'\n') => true,
        Some(&b) => b == separator,
    };
    memchr::memchr_iter(b'"', bytes).any(|at| {
        let after = bytes.get(at + 1);
        field_end(at.checked_sub(1).map(|i| &bytes[i]))
            && (after == Some(&b'\r') || field_end(after))
    })
}

/// polars' null values for `tokens` (not empty): one token is compared more cheaply alone.
fn null_values(mut tokens: Vec<PlSmallStr>) -> NullValues {
    match tokens.len() {
        1 => NullValues::AllColumnsSingle(tokens.remove(0)),
        _ => NullValues::AllColumns(tokens),
    }
}

/// Applies null tokens to a frame parsed without them: in each text column, the fields equal
/// to a token become null, and the column then takes the type polars would have inferred
/// from what is left, integers, else floats, else text.
fn null_tokens_after_parsing(mut df: DataFrame, tokens: &[PlSmallStr]) -> PolarsResult<DataFrame> {
    if tokens.is_empty() {
        return Ok(df);
    }
    let names: Vec<PlSmallStr> = df
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String)
        .map(|c| c.name().clone())
        .collect();
    for name in names {
        let text = df.column(&name)?.str()?;
        if !text.iter().flatten().any(|v| tokens.iter().any(|t| t == v)) {
            continue;
        }
        let cleared: StringChunked = text
            .iter()
            .map(|v| v.filter(|v| !tokens.iter().any(|t| t == v)))
            .collect();
        let cleared = cleared.with_name(name.clone()).into_series();
        let typed = [DataType::Int64, DataType::Float64]
            .iter()
            .find_map(|dtype| cleared.strict_cast(dtype).ok())
            .unwrap_or(cleared);
        df.replace(&name, typed.into_column())?;
    }
    Ok(df)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::codec::testing::fixture;

    /// A column as pandas read it (`<fixture>.pandas.json`, from fixtures/generate.py).
    struct PandasColumn {
        dtype: String,
        values: Vec<serde_json::Value>,
    }

    fn pandas_reading(path: &str) -> Vec<(String, PandasColumn)> {
        let json: serde_json::Value =
            serde_json::from_slice(&fixture(&format!("{path}.pandas.json"))).unwrap();
        let columns = json.as_object().expect("an object of columns");
        columns
            .iter()
            .map(|(name, column)| {
                let column = PandasColumn {
                    dtype: column["dtype"].as_str().unwrap().to_owned(),
                    values: column["values"].as_array().unwrap().clone(),
                };
                (name.clone(), column)
            })
            .collect()
    }

    /// Every column of `df` against pandas' reading, dtype and value: pandas' float64 is
    /// Float64, or Int64 where pandas made floats of integers only to hold NaN (polars has
    /// nullable integers); pandas' str/object is String.
    fn assert_reads_as_pandas(df: &DataFrame, path: &str) {
        let expected = pandas_reading(path);
        let names: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
        let got: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(got, names, "{path}: columns");
        for (name, pandas) in &expected {
            let column = df.column(name).unwrap();
            let context = format!("{path}: column {name} ({})", column.dtype());
            match (pandas.dtype.as_str(), column.dtype()) {
                ("float64", DataType::Float64 | DataType::Int64) => {
                    let got = column.cast(&DataType::Float64).unwrap();
                    let got: Vec<Option<f64>> = got.f64().unwrap().iter().collect();
                    let want: Vec<Option<f64>> = pandas.values.iter().map(|v| v.as_f64()).collect();
                    assert_eq!(got, want, "{context}");
                }
                ("str" | "object", DataType::String) => {
                    let got: Vec<Option<&str>> = column.str().unwrap().iter().collect();
                    let want: Vec<Option<&str>> =
                        pandas.values.iter().map(|v| v.as_str()).collect();
                    assert_eq!(got, want, "{context}");
                }
                (pandas, _) => panic!("{context}: pandas read {pandas}"),
            }
        }
    }

    #[test]
    fn pandas_na_tokens_read_as_nulls_as_pandas_reads_them() {
        for (format, path) in [(&CSV, "csv/na_tokens.csv"), (&TSV, "tsv/na_tokens.tsv")] {
            let df = format
                .decode_frame(fixture(path), &ReadSettings::default())
                .unwrap();
            assert_reads_as_pandas(&df, path);
            assert_eq!(df.column("floats").unwrap().dtype(), &DataType::Float64);
        }
    }

    /// Text where a field may be a lone quote is parsed without polars' null values and the
    /// tokens applied after: the same frame, as pandas reads it.
    #[test]
    fn na_tokens_applied_after_parsing_read_as_pandas_reads_them() {
        let tokens: Vec<PlSmallStr> = PANDAS_NA_VALUES.iter().map(|&t| t.into()).collect();
        let plain = ReadSettings {
            keep_default_na: Some(false),
            ..ReadSettings::default()
        };
        for (format, path) in [(&CSV, "csv/na_tokens.csv"), (&TSV, "tsv/na_tokens.tsv")] {
            let df = format.decode_frame(fixture(path), &plain).unwrap();
            let df = null_tokens_after_parsing(df, &tokens).unwrap();
            assert_reads_as_pandas(&df, path);
            assert_eq!(df.column("floats").unwrap().dtype(), &DataType::Float64);
        }
    }

    #[test]
    fn a_field_that_may_be_a_lone_quote_is_found() {
        for (text, found) in [
            (&b"a\n\"\n"[..], true),
            (b"a,b\n1,\"", true),
            (b"a,b\n\"\r\n", true),
            (b"a,b\n\"x,\",NA\n", true),
            (b"a,b\n\"x\",\"\"\n", false),
            (b"a,b\n1,2\n", false),
        ] {
            assert_eq!(has_lone_quote_field(text, b','), found, "{text:?}");
        }
        // Such text still reads, with pandas' tokens as nulls.
        let df = CSV
            .decode_frame(
                Bytes::from_static(b"a,b\n\"x,\",1\nNA,NA\n\"\",3\n"),
                &ReadSettings::default(),
            )
            .unwrap();
        let a: Vec<Option<&str>> = df.column("a").unwrap().str().unwrap().iter().collect();
        assert_eq!(a, [Some("x,"), None, None]);
        let b: Vec<Option<i64>> = df.column("b").unwrap().i64().unwrap().iter().collect();
        assert_eq!(b, [Some(1), None, Some(3)]);
        // Without such a field, polars applies them, the quoted empty field included.
        let df = CSV
            .decode_frame(
                Bytes::from_static(b"a,b\n\"\",1\nx,NA\n"),
                &ReadSettings::default(),
            )
            .unwrap();
        let a: Vec<Option<&str>> = df.column("a").unwrap().str().unwrap().iter().collect();
        assert_eq!(a, [None, Some("x")]);
    }

    #[test]
    fn a_prefix_ends_after_whole_records_outside_quotes() {
        let text = b"a,b\n1,\"two\nlines\"\n3,\"say \"\"hi\"\"\"\n5,6\n";
        // The header, then a record spanning two lines, then one with doubled quotes.
        let q = Some(b'"');
        assert_eq!(end_after_lines(text, 1, q), Some(4));
        assert_eq!(end_after_lines(text, 2, q), Some(18));
        assert_eq!(&text[18..], b"3,\"say \"\"hi\"\"\"\n5,6\n");
        assert_eq!(end_after_lines(text, 3, q), Some(33));
        assert_eq!(end_after_lines(text, 4, q), Some(text.len()));
        assert_eq!(end_after_lines(text, 5, q), None);
        assert_eq!(
            end_after_lines(b"a,b\n1,2", 2, q),
            None,
            "no line break after row 1"
        );
    }

    #[test]
    fn n_rows_and_columns_read_what_pandas_nrows_and_usecols_read() {
        let text = Bytes::from_static(b"a,b,c\n1,x,1.5\n2,y,2.5\nlate,z,NA\n");
        let settings = ReadSettings {
            n_rows: Some(2),
            columns: Some(vec!["c".into(), "a".into()]),
            ..ReadSettings::default()
        };
        let df = CSV.decode_frame(text.clone(), &settings).unwrap();
        // Dtypes from the two rows read, as pandas.read_csv(nrows=2, usecols=...) gives.
        assert_eq!(df.get_column_names(), ["c", "a"]);
        assert_eq!(df.column("a").unwrap().dtype(), &DataType::Int64);
        assert_eq!(df.column("c").unwrap().dtype(), &DataType::Float64);
        assert_eq!(df.height(), 2);
        let unknown = ReadSettings {
            columns: Some(vec!["nope".into()]),
            ..ReadSettings::default()
        };
        let err = CSV.decode_frame(text, &unknown).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
    }

    #[test]
    fn keep_default_na_false_keeps_the_tokens_as_text() {
        let settings = ReadSettings {
            keep_default_na: Some(false),
            null_values: vec!["n.a.".into()],
            ..ReadSettings::default()
        };
        let df = CSV
            .decode_frame(fixture("csv/na_tokens.csv"), &settings)
            .unwrap();
        let words: Vec<Option<&str>> = df.column("words").unwrap().str().unwrap().iter().collect();
        assert_eq!(
            &words[..4],
            [Some("apple"), Some("#N/A"), Some("pear"), Some("#N/A N/A")]
        );
        assert_eq!(
            words.last().unwrap(),
            &None,
            "the empty field is still null"
        );
        // The numbers cannot be numbers any more: the tokens are text.
        assert_eq!(df.column("floats").unwrap().dtype(), &DataType::String);
        // null_values given add to the empty field only.
        let kept = df.column("kept").unwrap().str().unwrap();
        assert_eq!(kept.get(5), None, "n.a. is a null value given");
        assert_eq!(kept.get(0), Some("NONE"));
    }

    #[test]
    fn header_width_counts_fields_outside_quotes_on_the_header_line() {
        assert_eq!(header_width(b"a,b,c\n1,2,3,4,5\n", 0, b','), 3);
        assert_eq!(header_width(b"junk\na,\"b,c\"\n", 1, b','), 2);
        assert_eq!(header_width(b"a\tb", 0, b'\t'), 2);
        assert_eq!(header_width(b"", 0, b','), 1);
        assert_eq!(header_width(b"a,b", 5, b','), 1);
        assert_eq!(
            header_width(",".repeat(99_999).as_bytes(), 0, b','),
            100_000
        );
    }
}
