//! `.parquet`: Apache Parquet, read and written by polars. Dtypes travel as they are: integers
//! of every width, floats, strings, booleans, dates, datetimes with their time zone,
//! decimals, lists and structs.
//!
//! polars trusts the counts a Parquet file declares: a data page's number of values sizes
//! its validity bitmap, a column chunk's sizes the column it decodes into, a page's
//! uncompressed size the buffer it inflates into. A negative count becomes a huge `usize`,
//! and an allocation that fails aborts the process, past any `catch_unwind`. So [`check`]
//! walks the footer and the page headers, before polars sees the bytes, and refuses
//! impossible counts and files that would take more than `max_decoded_size`.

use std::io::Cursor;

use bytes::Bytes;
use polars::prelude::*;
use polars_parquet::parquet::metadata::ColumnChunkMetadata;
use polars_parquet::parquet::page::ParquetPageHeader;
use polars_parquet::parquet::schema::types::PhysicalType;
use polars_parquet_format::PageType;
use polars_parquet_format::thrift::protocol::TCompactInputProtocol;

pub(crate) mod footer;

use super::codec::{
    Codec, cannot_encode, decode_error, encode_error, encode_into_buffer, unless_it_panics,
};
use super::table::in_asked_order;
use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};
use crate::limits::exceeded;
use crate::settings::{ReadSettings, WriteSettings};

pub(crate) struct Parquet;

impl Codec for Parquet {
    fn name(&self) -> &'static str {
        "parquet"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["parquet", "pq"]
    }

    fn content_type(&self) -> &'static str {
        "application/vnd.apache.parquet"
    }

    fn other_content_types(&self) -> &'static [&'static str] {
        &["application/x-parquet", "application/parquet"]
    }

    fn decode(&self, bytes: Bytes, options: &ReadSettings) -> Result<Data> {
        self.decode_frame(bytes, options).map(Data::Frame)
    }

    fn output_ratio(&self) -> u64 {
        crate::limits::Limits::DECLARED_MAX_RATIO
    }

    fn decode_frame(&self, bytes: Bytes, options: &ReadSettings) -> Result<DataFrame> {
        let columns = options.columns.as_deref();
        let declared = check(&bytes, options.output_remaining(), columns)?;
        options.charge_output(declared, || "what its metadata declares".into())?;
        let df = ParquetReader::new(Cursor::new(bytes))
            .with_columns(columns.map(<[String]>::to_vec))
            .with_slice(options.n_rows.map(|n| (0, n)))
            .finish()
            .map_err(|e| decode_error("not a valid Parquet file", e))?;
        in_asked_order(df, columns)
    }

    /// Writes zstd-compressed pages with statistics, as polars does by default; pandas,
    /// pyarrow, DuckDB and Spark read them.
    fn encode(&self, data: &Data, options: &WriteSettings) -> Result<Vec<u8>> {
        encode_into_buffer(self, data, options)
    }

    /// polars writes a Parquet file front to back, one row group (512² rows) after another,
    /// and the footer last: an upload can send the first row groups while the next are
    /// encoded.
    fn writes_in_parts(&self) -> bool {
        true
    }

    fn encode_to(
        &self,
        data: &Data,
        _: &WriteSettings,
        out: &mut dyn std::io::Write,
    ) -> Result<()> {
        let Data::Frame(df) = data else {
            return Err(cannot_encode(data, "parquet", "a frame"));
        };
        write_parquet(df, out, 512 * 512)
    }
}

/// The file `ParquetWriter::new(out).finish(df)` writes, byte for byte (its options, its row
/// groups of `row_group` rows: 512² by default), with each column of each row group encoded
/// and compressed on all cores: polars 0.55 does both lazily, on the one thread that writes.
/// Row groups are written in order as soon as their columns are ready, so an upload sends
/// the first while later ones are encoded; and a frame of many small chunks (as CSV decodes
/// into) is gathered into row groups one at a time, where polars copies the whole frame
/// first.
fn write_parquet(df: &DataFrame, out: &mut dyn std::io::Write, row_group: usize) -> Result<()> {
    use polars::io::parquet::write::{ParquetCompression, get_encodings};
    use polars_parquet::write::{
        CompressedPage, StatisticsOptions, Version, WriteOptions, array_to_columns, compress,
    };
    let failed = |e| encode_error("cannot write Parquet", e);
    // What ParquetWriter::new sets and hands its FileWriter.
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: ParquetCompression::default().into(),
        version: Version::V1,
        data_page_size: None,
    };
    let mut df = df.clone();
    if df.width() == 0 {
        // Row groups of rows without columns: nothing to spread over cores.
        let writer = ParquetWriter::new(out).with_row_group_size(Some(row_group));
        writer.finish(&mut df).map_err(failed)?;
        return Ok(());
    }
    let mut writer = ParquetWriter::new(out)
        .batched(df.schema())
        .map_err(failed)?;
    let fields = writer.parquet_schema().fields().to_vec();
    let encodings = get_encodings(&df.schema().to_arrow(CompatLevel::newest()));
    // One column of one row group: its pages (one list per leaf), encoded and compressed.
    let encode = move |array: ArrayRef, field: usize| -> Result<Vec<Vec<CompressedPage>>> {
        let run = || {
            let leaves =
                array_to_columns(array, fields[field].clone(), options, &encodings[field])?;
            leaves
                .into_iter()
                .map(|pages| {
                    let compressed = pages.map(|page| {
                        PolarsResult::Ok(compress(page?, Vec::new(), options.compression)?)
                    });
                    compressed.collect::<PolarsResult<Vec<_>>>()
                })
                .collect::<PolarsResult<Vec<_>>>()
        };
        match unless_it_panics(run) {
            Ok(pages) => pages.map_err(failed),
            Err(panic) => Err(Error::new(
                ErrorKind::Encode,
                format!("cannot write Parquet: polars' encoder panicked ({panic})"),
            )),
        }
    };
    let encode = std::sync::Arc::new(encode);
    let width = df.width();
    // Each column's pages arrive in order; a row group is written once its last column's have.
    let mut rows = Vec::new();
    let mut group: Vec<Vec<CompressedPage>> = Vec::new();
    let (mut columns_in, mut groups_written) = (0, 0);
    let mut write = |leaves: Vec<Vec<CompressedPage>>, rows: &[usize]| -> Result<()> {
        group.extend(leaves);
        columns_in += 1;
        if columns_in == width {
            let num_rows = rows[groups_written] as u64;
            writer
                .write_row_group(num_rows, &std::mem::take(&mut group))
                .map_err(failed)?;
            (columns_in, groups_written) = (0, groups_written + 1);
        }
        Ok(())
    };
    let mut workers = super::codec::PieceWorkers::new();
    for group in row_groups(&mut df, row_group).map_err(failed)? {
        let batches = group.iter_chunks(CompatLevel::newest(), false);
        for batch in batches.filter(|batch| !batch.is_empty()) {
            rows.push(batch.len());
            for (field, array) in batch.into_arrays().into_iter().enumerate() {
                let encode = encode.clone();
                if let Some(pages) = workers.start(move || encode(array, field)) {
                    write(pages??, &rows)?;
                }
            }
        }
    }
    for pages in workers.finish() {
        write(pages??, &rows)?;
    }
    writer.finish().map_err(failed)?;
    Ok(())
}

/// The row groups polars' `chunk_df_for_writing` makes of `df`, each a frame whose chunks
/// are row groups: chunks smaller than `row_group` rows are gathered, in order, until they
/// reach it, and each gathered group is made one piece (here one group at a time, as it is
/// asked for, so that no more than one group is copied at once); otherwise polars' own.
fn row_groups(
    df: &mut DataFrame,
    row_group: usize,
) -> PolarsResult<Box<dyn Iterator<Item = DataFrame> + '_>> {
    df.align_chunks_par();
    let first = df.columns()[0].as_materialized_series();
    if !first.chunk_lengths().take(5).all(|len| len < row_group) {
        let groups = polars::frame::chunk_df_for_writing(df, row_group)?.into_owned();
        return Ok(Box::new(std::iter::once(groups)));
    }
    let mut chunks = df.split_chunks();
    Ok(Box::new(std::iter::from_fn(move || {
        let mut group = chunks.next()?;
        let mut remaining = row_group.saturating_sub(group.height());
        while remaining > 0 {
            let Some(chunk) = chunks.next() else { break };
            remaining = remaining.saturating_sub(chunk.height());
            group.vstack_mut_unchecked(&chunk);
        }
        group.rechunk_mut_par();
        Some(group)
    })))
}

/// An error if polars could not read the Parquet file in `bytes` without risking an abort,
/// checked on its footer and page headers before polars sees it:
///
/// - the footer parses (`Decode`; polars-parquet's own reader, whose panics on garbage are
///   caught like polars');
/// - every column chunk lies inside the file, with offsets, sizes and a number of values
///   that are not negative (`Decode`);
/// - every page header parses, lies inside its column chunk, and declares sizes and counts
///   (values, nulls, rows, level lengths) that are not negative (`Decode`): polars casts
///   them to `usize`, and -1 becomes 2^64 - 1;
/// - all row groups together take at most `limit` bytes (`LimitExceeded`,
///   `max_decoded_size`): the uncompressed sizes pages declare, a validity bit per
///   value of every data page, a bit per row of every column, the values every column
///   chunk declares at their decoded width (polars reserves them up front), and
///   dictionaries' values at that width too;
/// - the walk visits no more column chunks and pages than the file has bytes (`Decode`),
///   so chunks sharing one byte range cannot make it go quadratic.
///
/// The walk reads pages as polars-parquet's page reader does: from the chunk's start, one
/// after another, until the data pages' values add up to the chunk's. Nothing is
/// decompressed.
///
/// With `columns`, only the column chunks of those top-level columns are walked and counted
/// (polars reads no others), and a name the file does not have is an `InvalidInput` error.
fn check(bytes: &Bytes, limit: u64, columns: Option<&[String]>) -> Result<u64> {
    let metadata = polars_parquet::parquet::read::read_metadata(&mut Cursor::new(&bytes[..]))
        .map_err(|e| decode_error("not a valid Parquet file", e))?;
    if let Some(columns) = columns {
        let names: Vec<&str> = metadata
            .schema()
            .fields()
            .iter()
            .map(|f| -> &str { f.name() })
            .collect();
        check_names(columns, &names)?;
    }
    let wanted = |column: &ColumnChunkMetadata| match columns {
        None => true,
        Some(columns) => column
            .descriptor()
            .path_in_schema
            .first()
            .is_some_and(|top| columns.iter().any(|c| c.as_str() == top.as_str())),
    };
    let mut scan = Scan {
        bytes,
        limit,
        total: 0,
        work: bytes.len() as u64,
    };
    for (g, group) in metadata.row_groups.iter().enumerate() {
        let columns = group.parquet_columns();
        let rows = group.num_rows() as u64;
        let read = columns.iter().filter(|c| wanted(c)).count() as u64;
        scan.add(rows.div_ceil(8).saturating_mul(read));
        scan.within_limit(g, None)?;
        for (c, column) in columns.iter().enumerate() {
            if wanted(column) {
                scan.chunk(g, c, column)?;
            }
        }
    }
    Ok(scan.total)
}

/// The walk of [`check`]: what the row groups seen so far ask polars to allocate.
struct Scan<'a> {
    bytes: &'a [u8],
    limit: u64,
    /// The bytes polars would allocate for what was seen so far, as declared.
    total: u64,
    /// How many more column chunks and pages the walk may visit: each takes a byte or more
    /// of the file, unless chunks share their bytes.
    work: u64,
}

impl Scan<'_> {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn add(&mut self, n: u64) {
        self.total = self.total.saturating_add(n);
    }

    /// Counts one more visit against [`Scan::work`].
    fn visit(&mut self) -> Result<()> {
        self.work = self.work.checked_sub(1).ok_or_else(|| {
            invalid(format!(
                "its footer lists more column chunks and pages than its {} bytes can hold \
                 (chunks sharing their bytes)",
                self.len()
            ))
        })?;
        Ok(())
    }

    /// An error if what was seen so far, up to row group `g` (column `c`), takes more than
    /// the limit.
    fn within_limit(&self, g: usize, c: Option<usize>) -> Result<()> {
        if self.total > self.limit {
            let at = match c {
                Some(c) => format!("row group {g}, column {c}"),
                None => format!("row group {g}"),
            };
            return Err(exceeded(
                "max_decoded_size",
                format!(
                    "the Parquet file's pages take {} bytes or more once decompressed and \
                     decoded (at {at}), more than the {} bytes left of this call's output \
                     budget, for a {}-byte object",
                    self.total,
                    self.limit,
                    self.len()
                ),
            ));
        }
        Ok(())
    }

    /// Column chunk `c` of row group `g`: its byte range, its values, and its pages.
    fn chunk(&mut self, g: usize, c: usize, column: &ColumnChunkMetadata) -> Result<()> {
        self.visit()?;
        let which = || format!("row group {g}, column {c}");
        let start = column
            .dictionary_page_offset()
            .unwrap_or(column.data_page_offset());
        let (size, values) = (column.compressed_size(), column.num_values());
        let (Ok(start), Ok(size), Ok(values)) = (
            u64::try_from(start),
            u64::try_from(size),
            u64::try_from(values),
        ) else {
            return Err(invalid(format!(
                "{} declares a negative offset, size or number of values ({start}, {size}, \
                 {values})",
                which()
            )));
        };
        let end = start
            .checked_add(size)
            .filter(|&end| end <= self.len())
            .ok_or_else(|| {
                invalid(format!(
                    "{} ({size} bytes at {start}) runs past the file's end ({} bytes)",
                    which(),
                    self.len()
                ))
            })?;
        let width = Width::of(&column.descriptor().descriptor.primitive_type.physical_type);
        self.add(width.bytes(values));
        self.within_limit(g, Some(c))?;
        // In range: checked against the file's length above.
        let chunk = self
            .bytes
            .get(start as usize..end as usize)
            .unwrap_or_default();
        let mut at = 0usize;
        let mut seen: u64 = 0;
        while at < chunk.len() && (seen < values || at == 0) {
            self.visit()?;
            let rest = chunk.get(at..).unwrap_or_default();
            let mut reader = rest;
            let header = ParquetPageHeader::read_from_in_protocol(&mut TCompactInputProtocol::new(
                &mut reader,
                rest.len(),
            ))
            .map_err(|e| invalid(format!("a page header of {} is unreadable: {e}", which())))?;
            let header_len = rest.len() - reader.len();
            let page = || format!("the page at {} of {}", start + at as u64, which());
            let (Ok(compressed), Ok(uncompressed)) = (
                usize::try_from(header.compressed_page_size),
                u64::try_from(header.uncompressed_page_size),
            ) else {
                return Err(invalid(format!(
                    "{} declares a negative size ({} compressed, {} uncompressed)",
                    page(),
                    header.compressed_page_size,
                    header.uncompressed_page_size
                )));
            };
            let next = header_len
                .checked_add(compressed)
                .filter(|&n| n <= rest.len())
                .ok_or_else(|| {
                    invalid(format!(
                        "{} ({compressed} bytes) runs past its column chunk's end",
                        page()
                    ))
                })?;
            self.add(uncompressed);
            let counts: Vec<(&str, i32)> = match header.type_ {
                PageType::DATA_PAGE => match &header.data_page_header {
                    Some(h) => vec![("values", h.num_values)],
                    None => vec![],
                },
                PageType::DATA_PAGE_V2 => match &header.data_page_header_v2 {
                    Some(h) => vec![
                        ("values", h.num_values),
                        ("nulls", h.num_nulls),
                        ("rows", h.num_rows),
                        ("definition level bytes", h.definition_levels_byte_length),
                        ("repetition level bytes", h.repetition_levels_byte_length),
                    ],
                    None => vec![],
                },
                PageType::DICTIONARY_PAGE => match &header.dictionary_page_header {
                    Some(h) => vec![("dictionary values", h.num_values)],
                    None => vec![],
                },
                _ => vec![],
            };
            for &(what, n) in &counts {
                let Ok(n) = u64::try_from(n) else {
                    return Err(invalid(format!("{} declares {n} {what}", page())));
                };
                match what {
                    // The validity bitmap polars reserves for the page's values.
                    "values" => {
                        self.add(n.div_ceil(8));
                        seen = seen.saturating_add(n);
                    }
                    "dictionary values" => self.add(width.bytes(n)),
                    _ => {}
                }
            }
            self.within_limit(g, Some(c))?;
            at += next;
        }
        Ok(())
    }
}

/// The bytes a decoded value takes in polars, by physical type.
#[derive(Clone, Copy)]
enum Width {
    Bit,
    Bytes(u64),
}

impl Width {
    fn of(physical: &PhysicalType) -> Self {
        match physical {
            PhysicalType::Boolean => Width::Bit,
            PhysicalType::Int32 | PhysicalType::Float => Width::Bytes(4),
            PhysicalType::Int64 | PhysicalType::Double => Width::Bytes(8),
            PhysicalType::Int96 => Width::Bytes(12),
            // A string or binary view.
            PhysicalType::ByteArray => Width::Bytes(16),
            PhysicalType::FixedLenByteArray(n) => Width::Bytes((*n as u64).max(1)),
        }
    }

    fn bytes(self, values: u64) -> u64 {
        match self {
            Width::Bit => values.div_ceil(8),
            Width::Bytes(n) => values.saturating_mul(n),
        }
    }
}

/// An `InvalidInput` error unless every name in `columns` is one of `names`.
fn check_names(columns: &[String], names: &[&str]) -> Result<()> {
    match columns.iter().find(|c| !names.contains(&c.as_str())) {
        Some(missing) => Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "the Parquet file has no column {missing:?}; its columns are {}",
                names.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// A `Decode` error for a file whose structure is broken.
fn invalid(why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!("not a valid Parquet file: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use polars_parquet_format::thrift::protocol::TCompactOutputProtocol;

    use super::*;
    use crate::format::codec::testing::fixture;

    fn decode(bytes: impl Into<Bytes>) -> Result<DataFrame> {
        Parquet.decode_frame(bytes.into(), &ReadSettings::default())
    }

    /// The writer that encodes columns on all cores writes the very bytes polars' own writer
    /// does: many row groups, from a frame of unaligned chunks, with nulls, short and long
    /// strings, dates, lists, an empty frame and one without columns.
    #[test]
    fn parallel_writer_writes_what_polars_writes() {
        let n = 10_000;
        let text: Vec<Option<String>> = (0..n)
            .map(|i| (i % 7 != 0).then(|| "x".repeat(i % 40)))
            .collect();
        let lists: Vec<Series> = (0..n)
            .map(|i| Series::new("".into(), vec![i as i64; i % 3]))
            .collect();
        let mut whole = df!(
            "id" => (0..n as i64).collect::<Vec<_>>(),
            "amount" => (0..n).map(|i| (i % 5 != 0).then_some(i as f64 / 3.0)).collect::<Vec<_>>(),
            "text" => text,
            "day" => (0..n as i32).collect::<Vec<_>>(),
            "list" => lists,
        )
        .unwrap();
        let day = whole.column("day").unwrap().cast(&DataType::Date).unwrap();
        whole.with_column(day).unwrap();
        // Chunks of 2 500 and 7 500 rows.
        let mut chunked = whole.slice(0, 2_500);
        chunked.vstack_mut(&whole.slice(2_500, n)).unwrap();
        // Ten chunks of 1 000 rows, gathered into row groups of up to 3 000 rows.
        let mut small_chunks = whole.slice(0, 1_000);
        for start in (1_000..n).step_by(1_000) {
            small_chunks
                .vstack_mut(&whole.slice(start as i64, 1_000))
                .unwrap();
        }
        // Columns chunked differently: one column in 1 000-row chunks, the rest whole.
        let mut misaligned = whole.clone();
        let id = small_chunks.column("id").unwrap().clone();
        misaligned.with_column(id).unwrap();
        let empty = whole.slice(0, 0);
        let no_columns = DataFrame::empty_with_height(5);
        let frames = [
            ("chunked", chunked),
            ("small chunks", small_chunks),
            ("misaligned", misaligned),
            ("whole", whole),
            ("empty", empty),
            ("no columns", no_columns),
        ];
        for (name, frame) in frames {
            for row_group in [1_000, 2_500, 4_096, 512 * 512] {
                let mut ours = Vec::new();
                write_parquet(&frame, &mut ours, row_group).unwrap();
                let mut theirs = Vec::new();
                ParquetWriter::new(&mut theirs)
                    .with_row_group_size(Some(row_group))
                    .finish(&mut frame.clone())
                    .unwrap();
                assert!(ours == theirs, "{name}, row groups of {row_group}");
            }
        }
    }

    /// The error `bytes` give, which must be of `kind` and say `says`.
    fn refused(bytes: impl Into<Bytes>, kind: ErrorKind, says: &str) {
        crate::format::codec::testing::refused(&Parquet, bytes, kind, says);
    }

    /// `rows` rows of optional numbers, strings and booleans.
    fn frame(rows: i64) -> DataFrame {
        let ints: Vec<Option<i64>> = (0..rows).map(|i| (i % 7 != 0).then_some(i * 3)).collect();
        let strs: Vec<Option<String>> = (0..rows)
            .map(|i| (i % 5 != 0).then(|| format!("s{}", i % 11)))
            .collect();
        let bools: Vec<Option<bool>> = (0..rows)
            .map(|i| (i % 3 != 0).then_some(i % 2 == 0))
            .collect();
        df!("i" => ints, "s" => strs, "b" => bools).unwrap()
    }

    fn parquet(df: &DataFrame) -> Vec<u8> {
        Parquet
            .encode(&Data::Frame(df.clone()), &WriteSettings::default())
            .unwrap()
    }

    /// The first page header of column `c` in the first row group: where it starts in the
    /// file, how long it is, and the header.
    fn first_page(bytes: &[u8], c: usize) -> (usize, usize, ParquetPageHeader) {
        let metadata =
            polars_parquet::parquet::read::read_metadata(&mut Cursor::new(bytes)).unwrap();
        let column = &metadata.row_groups[0].parquet_columns()[c];
        let at = column.byte_range().start as usize;
        let mut reader = &bytes[at..];
        let header = ParquetPageHeader::read_from_in_protocol(&mut TCompactInputProtocol::new(
            &mut reader,
            usize::MAX,
        ))
        .unwrap();
        (at, bytes.len() - at - reader.len(), header)
    }

    /// `bytes` with the page header at `at` (`len` bytes) rewritten as `header`, which must
    /// take as many bytes.
    fn patched(bytes: &[u8], at: usize, len: usize, header: &ParquetPageHeader) -> Vec<u8> {
        let mut out = Vec::new();
        header
            .write_to_out_protocol(&mut TCompactOutputProtocol::new(&mut out))
            .unwrap();
        assert_eq!(out.len(), len, "the patched header must keep its length");
        let mut bytes = bytes.to_vec();
        bytes[at..at + len].copy_from_slice(&out);
        bytes
    }

    #[test]
    fn valid_files_pass_the_scan() {
        for path in [
            "parquet/pandas_sample.parquet",
            "parquet/polars_typed.parquet",
            "parquet/pyarrow_typed.parquet",
        ] {
            let bytes = fixture(path);
            check(&bytes, 64 << 20, None).unwrap_or_else(|e| panic!("{path}: {e}"));
            decode(bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        let df = frame(50_000);
        let back = decode(parquet(&df)).unwrap();
        assert!(back.equals_missing(&df));
    }

    #[test]
    fn the_fuzzed_page_with_a_huge_validity_bitmap_is_refused() {
        // Found by fuzzing: polars reserved a validity bitmap of 2^61 bytes, and aborted.
        refused(
            fixture("hostile/parquet_fuzz_page_validity_huge.parquet"),
            ErrorKind::Decode,
            "not a valid Parquet file",
        );
    }

    #[test]
    fn negative_page_counts_are_refused() {
        let good = parquet(&frame(1_000));
        for c in 0..3 {
            let (at, len, header) = first_page(&good, c);
            // The header reads back as written, so patches change only what they say.
            assert_eq!(patched(&good, at, len, &header), good);
            let mut negative = header.clone();
            let n = match (
                &mut negative.data_page_header,
                &mut negative.data_page_header_v2,
            ) {
                (Some(h), _) => {
                    h.num_values = -h.num_values;
                    h.num_values
                }
                (None, Some(h)) => {
                    h.num_values = -h.num_values;
                    h.num_values
                }
                // A dictionary page first.
                _ => match &mut negative.dictionary_page_header {
                    Some(h) => {
                        h.num_values = -h.num_values;
                        h.num_values
                    }
                    None => panic!("column {c}: no page header"),
                },
            };
            assert!(n < 0, "column {c}");
            refused(
                patched(&good, at, len, &negative),
                ErrorKind::Decode,
                &format!("the page at {at} of row group 0, column {c} declares {n}"),
            );
            let mut size = header.clone();
            size.uncompressed_page_size = -size.uncompressed_page_size;
            refused(
                patched(&good, at, len, &size),
                ErrorKind::Decode,
                "declares a negative size",
            );
        }
    }

    #[test]
    fn files_declaring_too_much_are_refused() {
        let good = Bytes::from(parquet(&frame(100_000)));
        // Decoded, the frame takes about 2.5 MB: 100,000 rows × (8 + 16 + 1/8 bytes).
        check(&good, 4 << 20, None).unwrap();
        let err = check(&good, 1 << 20, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
        assert!(err.message().contains("Limits::max_decoded_size"), "{err}");
        assert!(err.message().contains("(at row group 0, column"), "{err}");
    }

    #[test]
    fn a_constant_column_compressed_a_thousandfold_still_decodes_by_default() {
        // 10 million equal numbers: 80 MB decoded from a file of a few kilobytes, far past the
        // 100× and 64 MiB that gzip gets, within the 1,000× and 256 MiB Parquet gets.
        let rows = 10_000_000;
        let df = df!("n" => vec![7i64; rows]).unwrap();
        let bytes = parquet(&df);
        assert!(bytes.len() * 100 < 64 << 20, "{} bytes", bytes.len());
        let back = decode(bytes).unwrap();
        assert_eq!(back.height(), rows);
        assert_eq!(
            back.column("n").unwrap().i64().unwrap().get(rows - 1),
            Some(7)
        );
    }

    #[test]
    fn pages_past_their_chunk_are_refused() {
        let good = parquet(&frame(1_000));
        let (at, len, header) = first_page(&good, 0);
        // The largest size whose zigzag varint takes as many bytes as the one written.
        let bytes = |n: i32| (64 - (2 * n as u64).leading_zeros()).div_ceil(7).max(1);
        let width = bytes(header.compressed_page_size);
        let mut long = header.clone();
        long.compressed_page_size = ((1u64 << (7 * width)) / 2 - 1) as i32;
        assert_eq!(bytes(long.compressed_page_size), width);
        assert!(long.compressed_page_size > header.compressed_page_size);
        refused(
            patched(&good, at, len, &long),
            ErrorKind::Decode,
            "runs past its column chunk's end",
        );
        // The truncated fixture: its footer or chunks lie past the end.
        assert_eq!(
            decode(fixture("parquet/truncated.parquet"))
                .unwrap_err()
                .kind(),
            ErrorKind::Decode
        );
    }
}
