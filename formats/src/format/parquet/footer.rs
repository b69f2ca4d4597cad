//! A Parquet object's footer, read from the object's end alone, and the smallest valid file
//! that holds the row groups and columns a call asks for, assembled from byte ranges.
//!
//! The S3 side fetches the object's last [`ParquetFooter::FIRST_READ`] bytes with a suffix
//! range GET, asks [`ParquetFooter::len`] how long the footer is (fetching exactly that many
//! bytes again when the metadata is longer), and parses it. [`ParquetFooter::plan`] names the
//! byte ranges of the column chunks a projection and a row count need; once fetched,
//! [`ParquetFooter::assemble`] puts them in a new file whose metadata points at them, which
//! the Parquet codec then checks and decodes like any other.

use std::io::Cursor;
use std::ops::Range;

use bytes::Bytes;
use polars::prelude::{Schema, SchemaExt};
use polars_parquet_format::FileMetaData;
use polars_parquet_format::thrift::protocol::{TCompactInputProtocol, TCompactOutputProtocol};

use super::{check_names, invalid};
use crate::error::{Error, ErrorKind, Result};
use crate::format::codec::decode_error;
use crate::limits::{Limits, OutputBudget, exceeded};

const MAGIC: &[u8; 4] = b"PAR1";

/// The footer of a Parquet object: its metadata, parsed from the object's last bytes.
#[derive(Debug, Clone)]
pub struct ParquetFooter {
    metadata: FileMetaData,
    /// The footer's bytes: the metadata, its length, and the magic.
    bytes: Bytes,
    object_size: u64,
}

/// What a call reads of a Parquet object: some row groups, some of their columns.
#[derive(Debug, Clone)]
pub struct ParquetPlan {
    groups: Vec<usize>,
    /// The column chunks read in each of those row groups, by position.
    leaves: Vec<usize>,
    ranges: Vec<Range<u64>>,
}

impl ParquetPlan {
    /// The byte ranges to fetch, in the order [`ParquetFooter::assemble`] takes them.
    pub fn ranges(&self) -> &[Range<u64>] {
        &self.ranges
    }

    /// The bytes the ranges add up to.
    pub fn bytes(&self) -> u64 {
        self.ranges.iter().map(|r| r.end - r.start).sum()
    }
}

impl ParquetFooter {
    /// How many of an object's last bytes the first suffix GET asks for: the footer of most
    /// files fits.
    pub const FIRST_READ: u64 = 64 << 10;

    /// How many bytes at the end of an `object_size`-byte object the footer takes (the
    /// metadata, its 4-byte length and `PAR1`), read from `tail`, the object's last bytes. An
    /// error (`Decode`) if the object is too short, does not end with `PAR1`, or declares
    /// more metadata than it holds: nothing is allocated for a length the object cannot have.
    pub fn len(tail: &[u8], object_size: u64) -> Result<u64> {
        if object_size < 12 || tail.len() < 8 {
            return Err(invalid(format!(
                "it has {object_size} bytes, fewer than the 12 a Parquet file needs"
            )));
        }
        let end = &tail[tail.len() - 8..];
        if &end[4..] != MAGIC {
            return Err(invalid("it does not end with PAR1"));
        }
        let metadata = u64::from(u32::from_le_bytes([end[0], end[1], end[2], end[3]]));
        let len = metadata + 8;
        if len + 4 > object_size {
            return Err(invalid(format!(
                "its footer declares {metadata} bytes of metadata, more than the {object_size}-byte \
                 object holds"
            )));
        }
        Ok(len)
    }

    /// Parses the footer from `tail`, the last bytes of an `object_size`-byte object, which
    /// must hold the whole footer ([`ParquetFooter::len`] bytes). What the metadata may
    /// allocate as it is parsed is bounded by `limits`' `max_decoded_size` (by default its
    /// 256 MiB floor): past it, a `LimitExceeded` error.
    pub fn parse(tail: Bytes, object_size: u64, limits: &Limits) -> Result<ParquetFooter> {
        let len = Self::len(&tail, object_size)?;
        let Some(start) = tail.len().checked_sub(len as usize) else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "the footer takes {len} bytes and only {} were fetched",
                    tail.len()
                ),
            ));
        };
        let bytes = tail.slice(start..);
        let mut reader = &bytes[..bytes.len() - 8];
        // What the thrift reader may allocate: decoded structs take several times the bytes
        // that encode them, but a few bytes must not declare a list of a billion, nor a long
        // footer take more than the call may decode.
        let wanted = (reader.len() as u64).saturating_mul(64).max(1 << 20);
        let cap = OutputBudget::new(limits).limit();
        let max = usize::try_from(wanted.min(cap)).unwrap_or(usize::MAX);
        let metadata =
            FileMetaData::read_from_in_protocol(&mut TCompactInputProtocol::new(&mut reader, max))
                .map_err(|e| match wanted > cap {
                    true => exceeded(
                        "max_decoded_size",
                        format!(
                            "the Parquet footer's {} bytes of metadata decode to more than the \
                             {cap} bytes this call may decode ({e})",
                            len - 8
                        ),
                    ),
                    false => invalid(format!("its metadata is unreadable: {e}")),
                })?;
        Ok(ParquetFooter {
            metadata,
            bytes,
            object_size,
        })
    }

    /// The schema polars reads the file with: column names and dtypes.
    pub fn schema(&self) -> Result<Schema> {
        let metadata = self.polars_metadata()?;
        let arrow = polars_parquet::arrow::read::infer_schema(&metadata)
            .map_err(|e| decode_error("not a valid Parquet file", e))?;
        Ok(Schema::from_arrow_schema(&arrow))
    }

    /// The rows the footer declares.
    pub fn num_rows(&self) -> u64 {
        u64::try_from(self.metadata.num_rows).unwrap_or(0)
    }

    fn polars_metadata(&self) -> Result<polars_parquet::parquet::metadata::FileMetadata> {
        polars_parquet::parquet::read::read_metadata(&mut Cursor::new(&self.bytes[..]))
            .map_err(|e| decode_error("not a valid Parquet file", e))
    }

    /// The byte ranges that hold `columns` (all with `None`) of the first row groups that
    /// hold `n_rows` rows (all with `None`). A name the file does not have is an
    /// `InvalidInput` error; a chunk outside the object's data, a `Decode` error.
    pub fn plan(&self, columns: Option<&[String]>, n_rows: Option<usize>) -> Result<ParquetPlan> {
        if let Some(columns) = columns {
            let metadata = self.polars_metadata()?;
            let names: Vec<&str> = metadata
                .schema()
                .fields()
                .iter()
                .map(|f| -> &str { f.name() })
                .collect();
            check_names(columns, &names)?;
        }
        let mut groups = Vec::new();
        let mut rows: u64 = 0;
        for (g, group) in self.metadata.row_groups.iter().enumerate() {
            if n_rows.is_some_and(|n| rows >= n as u64) {
                break;
            }
            let n = u64::try_from(group.num_rows)
                .map_err(|_| invalid(format!("row group {g} declares {} rows", group.num_rows)))?;
            rows = rows.saturating_add(n);
            groups.push(g);
        }
        let data_end = self.object_size - self.bytes.len() as u64;
        let mut leaves: Option<Vec<usize>> = None;
        let mut ranges = Vec::new();
        for &g in &groups {
            let group = &self.metadata.row_groups[g];
            let wanted: Vec<usize> = group
                .columns
                .iter()
                .enumerate()
                .filter(|(_, chunk)| match columns {
                    None => true,
                    Some(columns) => chunk
                        .meta_data
                        .as_ref()
                        .and_then(|m| m.path_in_schema.first())
                        .is_some_and(|top| columns.contains(top)),
                })
                .map(|(c, _)| c)
                .collect();
            match &leaves {
                Some(leaves) if *leaves != wanted => {
                    return Err(invalid(format!(
                        "row group {g} lays out its columns unlike row group {}",
                        groups[0]
                    )));
                }
                Some(_) => {}
                None => leaves = Some(wanted.clone()),
            }
            for c in wanted {
                let which = || format!("row group {g}, column {c}");
                let meta = group.columns[c]
                    .meta_data
                    .as_ref()
                    .ok_or_else(|| invalid(format!("{} has no metadata", which())))?;
                let start = meta.dictionary_page_offset.unwrap_or(meta.data_page_offset);
                let size = meta.total_compressed_size;
                let (Ok(start), Ok(size)) = (u64::try_from(start), u64::try_from(size)) else {
                    return Err(invalid(format!(
                        "{} declares a negative offset or size ({start}, {size})",
                        which()
                    )));
                };
                let end = start
                    .checked_add(size)
                    .filter(|&end| start >= 4 && end <= data_end)
                    .ok_or_else(|| {
                        invalid(format!(
                            "{} ({size} bytes at {start}) lies outside the {data_end} bytes \
                             before the footer",
                            which()
                        ))
                    })?;
                ranges.push(start..end);
            }
        }
        Ok(ParquetPlan {
            groups,
            leaves: leaves.unwrap_or_default(),
            ranges,
        })
    }

    /// A valid Parquet file holding the row groups and column chunks of `plan`, from
    /// `chunks`, the bytes of its ranges in order. The columns left out stay in the schema
    /// with empty chunks, so the file's embedded Arrow schema still matches; read it with
    /// the same projection.
    pub fn assemble(&self, plan: &ParquetPlan, chunks: Vec<Bytes>) -> Result<Bytes> {
        let mismatch = || {
            Error::new(
                ErrorKind::InvalidInput,
                "the fetched byte ranges do not match the plan",
            )
        };
        if chunks.len() != plan.ranges.len()
            || chunks
                .iter()
                .zip(&plan.ranges)
                .any(|(c, r)| c.len() as u64 != r.end - r.start)
        {
            return Err(mismatch());
        }
        let mut out = Vec::with_capacity(4 + plan.bytes() as usize + self.bytes.len());
        out.extend_from_slice(MAGIC);
        let mut metadata = self.metadata.clone();
        let mut chunks = chunks.into_iter();
        let mut groups = Vec::with_capacity(plan.groups.len());
        let mut num_rows: i64 = 0;
        for &g in &plan.groups {
            let mut group = metadata.row_groups[g].clone();
            for (c, chunk) in group.columns.iter_mut().enumerate() {
                chunk.offset_index_offset = None;
                chunk.offset_index_length = None;
                chunk.column_index_offset = None;
                chunk.column_index_length = None;
                let Some(meta) = chunk.meta_data.as_mut() else {
                    return Err(invalid(format!(
                        "row group {g}, column {c} has no metadata"
                    )));
                };
                meta.index_page_offset = None;
                meta.bloom_filter_offset = None;
                meta.bloom_filter_length = None;
                let at = out.len() as i64;
                if plan.leaves.contains(&c) {
                    let bytes = chunks.next().ok_or_else(mismatch)?;
                    let old = meta.dictionary_page_offset.unwrap_or(meta.data_page_offset);
                    let shift = at - old;
                    meta.data_page_offset += shift;
                    if let Some(dictionary) = &mut meta.dictionary_page_offset {
                        *dictionary += shift;
                    }
                    out.extend_from_slice(&bytes);
                } else {
                    // Not read: an empty chunk that polars, given the projection, never opens.
                    meta.data_page_offset = at;
                    meta.dictionary_page_offset = None;
                    meta.total_compressed_size = 0;
                }
                chunk.file_offset = at;
            }
            group.file_offset = None;
            group.total_compressed_size = None;
            num_rows = num_rows.saturating_add(group.num_rows);
            groups.push(group);
        }
        metadata.row_groups = groups;
        metadata.num_rows = num_rows;
        let start = out.len();
        metadata
            .write_to_out_protocol(&mut TCompactOutputProtocol::new(&mut out))
            .map_err(|e| invalid(format!("cannot rewrite its metadata: {e}")))?;
        let len = u32::try_from(out.len() - start).map_err(|_| invalid("metadata too long"))?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(MAGIC);
        Ok(Bytes::from(out))
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;
    use crate::data::Data;
    use crate::format::codec::Codec;
    use crate::format::codec::testing::fixture;
    use crate::format::parquet::Parquet;
    use crate::settings::{ReadSettings, WriteSettings};

    /// The footer of `file`, from its last `FIRST_READ` bytes (or exactly the footer).
    fn footer(file: &Bytes) -> ParquetFooter {
        let size = file.len() as u64;
        let first = file.slice(
            file.len()
                .saturating_sub(ParquetFooter::FIRST_READ as usize)..,
        );
        let len = ParquetFooter::len(&first, size).unwrap();
        let tail = file.slice(file.len() - len as usize..);
        ParquetFooter::parse(tail, size, &Limits::new()).unwrap()
    }

    /// Reads `columns` of the first `n_rows` of `file` by range, as s3io does.
    fn by_range(file: &Bytes, columns: Option<&[String]>, n_rows: Option<usize>) -> DataFrame {
        let footer = footer(file);
        let plan = footer.plan(columns, n_rows).unwrap();
        let chunks = plan
            .ranges()
            .iter()
            .map(|r| file.slice(r.start as usize..r.end as usize))
            .collect();
        let small = footer.assemble(&plan, chunks).unwrap();
        let settings = ReadSettings {
            columns: columns.map(<[String]>::to_vec),
            n_rows,
            ..ReadSettings::default()
        };
        Parquet.decode_frame(small, &settings).unwrap()
    }

    fn sample(rows: i64, group: usize) -> (DataFrame, Bytes) {
        let df = df!(
            "a" => (0..rows).collect::<Vec<_>>(),
            "s" => (0..rows).map(|i| format!("s{}", i % 13)).collect::<Vec<_>>(),
            "f" => (0..rows).map(|i| (i % 3 != 0).then_some(i as f64 / 2.0)).collect::<Vec<_>>(),
        )
        .unwrap();
        let mut out = Vec::new();
        ParquetWriter::new(&mut out)
            .with_row_group_size(Some(group))
            .finish(&mut df.clone())
            .unwrap();
        (df, Bytes::from(out))
    }

    #[test]
    fn the_footer_gives_the_schema_polars_reads() {
        for path in [
            "parquet/pandas_sample.parquet",
            "parquet/polars_typed.parquet",
            "parquet/pyarrow_typed.parquet",
        ] {
            let file = fixture(path);
            let df = Parquet
                .decode_frame(file.clone(), &ReadSettings::default())
                .unwrap();
            assert_eq!(
                &footer(&file).schema().unwrap(),
                df.schema().as_ref(),
                "{path}"
            );
        }
    }

    #[test]
    fn columns_and_rows_read_by_range_match_the_whole_read() {
        let (df, file) = sample(10_000, 1_000);
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let f_a = names(&["f", "a"]);
        let got = by_range(&file, Some(&f_a), None);
        assert!(got.equals_missing(&df.select(["f", "a"]).unwrap()));
        let got = by_range(&file, None, Some(2_500));
        assert!(got.equals_missing(&df.head(Some(2_500))));
        let s = names(&["s"]);
        let got = by_range(&file, Some(&s), Some(1));
        assert!(got.equals_missing(&df.select(["s"]).unwrap().head(Some(1))));
        // Only the first three row groups' chunks of one column are planned.
        let plan = footer(&file).plan(Some(&s), Some(2_500)).unwrap();
        assert_eq!(plan.ranges().len(), 3);
        assert!(plan.bytes() * 3 < file.len() as u64, "{}", plan.bytes());
        let for_fixtures = footer(&fixture("parquet/pyarrow_typed.parquet"));
        assert!(!for_fixtures.plan(None, None).unwrap().ranges().is_empty());
        let err = footer(&file)
            .plan(Some(&names(&["nope"])), None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        let _ = Parquet.encode(&Data::Frame(df), &WriteSettings::default());
    }

    #[test]
    fn every_column_of_the_fixtures_reads_alone_as_in_the_whole_file() {
        for path in [
            "parquet/pandas_sample.parquet",
            "parquet/polars_typed.parquet",
            "parquet/pyarrow_typed.parquet",
        ] {
            let file = fixture(path);
            let whole = Parquet
                .decode_frame(file.clone(), &ReadSettings::default())
                .unwrap();
            for name in whole.get_column_names() {
                let one = [name.to_string()];
                let got = by_range(&file, Some(&one), None);
                let want = whole.select([name.clone()]).unwrap();
                assert!(got.equals_missing(&want), "{path}: {name}");
            }
            let none = by_range(&file, None, Some(0));
            assert_eq!(none.height(), 0, "{path}");
            assert_eq!(none.schema(), whole.schema(), "{path}");
        }
    }

    #[test]
    fn hostile_footer_lengths_are_refused_before_allocating() {
        let (_, file) = sample(100, 100);
        let mut bad = file.to_vec();
        let n = bad.len();
        bad[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = ParquetFooter::len(&bad, n as u64).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(err.message().contains("more than the"), "{err}");
        assert!(ParquetFooter::len(b"PAR1", 4).is_err());
        assert!(ParquetFooter::len(b"\0\0\0\0\0\0\0\0notparquet", 100).is_err());
        // Garbage metadata of a plausible length is a Decode error, not a panic.
        let mut garbage = vec![0xffu8; 64];
        garbage.extend_from_slice(&60u32.to_le_bytes());
        garbage.extend_from_slice(b"PAR1");
        let err = ParquetFooter::parse(Bytes::from(garbage), 1000, &Limits::new()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        // A footer whose metadata would decode past a tight max_decoded_size.
        let wide: Vec<Column> = (0..2_000)
            .map(|c| Column::new(format!("c{c}").into(), [1i64]))
            .collect();
        let mut out = Vec::new();
        ParquetWriter::new(&mut out)
            .finish(&mut DataFrame::new_infer_height(wide).unwrap())
            .unwrap();
        let len = ParquetFooter::len(&out, out.len() as u64).unwrap() as usize;
        let tail = Bytes::from(out[out.len() - len..].to_vec());
        let tight = Limits::new().max_decoded_size(64 << 10);
        let err = ParquetFooter::parse(tail, out.len() as u64, &tight).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
        // A chunk declared past the data is refused by the plan.
        let mut footer = footer(&file);
        footer.metadata.row_groups[0].columns[0]
            .meta_data
            .as_mut()
            .unwrap()
            .total_compressed_size = 1 << 40;
        let err = footer.plan(None, None).unwrap_err();
        assert!(err.message().contains("lies outside"), "{err}");
    }
}
