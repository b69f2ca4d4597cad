//! Decoding CSV and TSV while the object's parts arrive: the bytes are cut at record
//! boundaries as they come, each piece is parsed while the next parts are on their way, and
//! the pieces are stacked in order.
//!
//! The frame is the one the whole-object reader gives, or none (the caller then decodes the
//! whole object):
//! - the first piece is the header and the [`INFER_ROWS`](super::INFER_ROWS) rows the
//!   whole-object reader infers the column types from, parsed exactly as that reader parses
//!   a whole file; every later piece is parsed into the schema it gave. A later field that
//!   does not fit (the whole-object reader then reads again, inferring from every row) gives
//!   up.
//! - A record boundary is a line break outside quotes: the quoting state is carried from one
//!   part to the next, counting quotes as polars' own splitter does, so that a quoted line
//!   break is never a boundary. Each piece must parse into as many rows as it holds records,
//!   or the decoder gives up: text where the count and the parser could disagree (blank
//!   lines, a stray quote inside a field) is decoded whole.
//! - Text where a field may be a lone quote, which polars 0.55 cannot be trusted to compare
//!   with null values ([`has_lone_quote_field`]), is decoded whole, as are options this
//!   decoder does not take (`columns`, `n_rows`, `infer_schema_length`, skipped lines).
//!
//! Each piece is charged to the output budget before it is parsed, as the whole-object
//! reader charges the whole text. Later pieces, cut at the first record boundary after
//! about every [`PIECE_BYTES_CSV`](super::PIECE_BYTES_CSV) and at the last of each
//! part, are parsed each on its own thread ([`PieceWorkers`]), so that the parsing keeps up
//! with the transfer and, once the last part is in, takes every core; the decoder waits for
//! the oldest when enough are under way, which holds back the transfer in turn.

use std::sync::Arc;

use bytes::Bytes;
use polars::prelude::*;

use super::{Delimited, has_lone_quote_field, rows_end};
use crate::data::Data;
use crate::error::Result;
use crate::format::codec::{Codec, DecodeParts, Fed, PieceWorkers};
use crate::settings::ReadSettings;

/// A CSV or TSV table decoded from its parts; see the module's doc.
pub(crate) struct DelimitedParts {
    format: &'static Delimited,
    settings: ReadSettings,
    /// The rows the first piece holds, from which the column types are inferred.
    infer_rows: usize,
    /// The bytes not parsed yet. Before the first piece, every byte so far; after it, the
    /// start of a record that no part has ended yet, scanned: the only bytes copied out of
    /// the parts, which are otherwise cut into pieces in place.
    pending: Vec<u8>,
    /// Whether the scan ended inside a quoted field.
    quoted: bool,
    /// About how many bytes a later piece holds.
    piece_bytes: usize,
    /// The schema the first piece gave; `None` until it is parsed.
    schema: Option<SchemaRef>,
    /// The pieces parsed, in order.
    frames: Vec<DataFrame>,
    /// The pieces being parsed, in order after `frames`: each gives its frame, or `None`
    /// when the whole-object reader is to decode the object.
    workers: PieceWorkers<Option<DataFrame>>,
}

impl DelimitedParts {
    /// A decoder for `format` read with `settings`, inferring column types from the first
    /// `infer_rows` rows, parsing later pieces of about `piece_bytes`; `None` for options it
    /// does not take.
    pub(crate) fn new(
        format: &'static Delimited,
        settings: &ReadSettings,
        infer_rows: usize,
        piece_bytes: usize,
    ) -> Option<DelimitedParts> {
        let plain = settings.columns.is_none()
            && settings.n_rows.is_none()
            && settings.infer_schema_length.is_none()
            && settings.header_row.unwrap_or(0) == 0
            && settings.skip_rows_after_header == 0;
        plain.then(|| DelimitedParts {
            format,
            settings: settings.clone(),
            infer_rows: infer_rows.max(1),
            pending: Vec::new(),
            quoted: false,
            piece_bytes: piece_bytes.max(1),
            schema: None,
            frames: Vec::new(),
            workers: PieceWorkers::new(),
        })
    }

    /// Cuts `part`, which follows `pending`, at record boundaries (about every
    /// `piece_bytes` and at the last; at the first too when `pending` is not empty, so that
    /// little is copied), starts parsing the pieces, and keeps what follows the last
    /// boundary in `pending`.
    fn later_part(&mut self, part: Bytes) -> Result<Fed> {
        let carry = self.pending.len();
        // Positions count from the start of `pending`, as if `part` followed it.
        let byte_at = |at: usize| match at.checked_sub(carry) {
            Some(at) => part[at],
            None => self.pending[at],
        };
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        let (mut record_start, mut records, mut cut) = (0, 0, 0);
        let mut quoted = self.quoted;
        for at in memchr::memchr2_iter(b'"', b'\n', &part) {
            if part[at] == b'"' {
                quoted = !quoted;
                continue;
            }
            if quoted {
                continue;
            }
            let end = carry + at;
            let blank =
                end == record_start || (end == record_start + 1 && byte_at(record_start) == b'\r');
            records += usize::from(!blank);
            (cut, record_start) = (end + 1, end + 1);
            let piece_start = pieces.last().map_or(0, |&(end, _)| end);
            if cut - piece_start >= self.piece_bytes || (piece_start == 0 && carry > 0) {
                pieces.push((cut, std::mem::take(&mut records)));
            }
        }
        self.quoted = quoted;
        if cut == 0 {
            self.pending.extend_from_slice(&part);
            return Ok(Fed::More);
        }
        if pieces.last().is_none_or(|&(end, _)| end < cut) {
            pieces.push((cut, records));
        }
        let mut start = 0usize;
        for (end, records) in pieces {
            let piece = match start.checked_sub(carry) {
                Some(from) => part.slice(from..end - carry),
                None => {
                    let mut piece = std::mem::take(&mut self.pending);
                    piece.extend_from_slice(&part[..end - carry]);
                    Bytes::from(piece)
                }
            };
            if self.later_piece(piece, records)? == Fed::WholeObject {
                return Ok(Fed::WholeObject);
            }
            start = end;
        }
        self.pending = part[cut - carry..].to_vec();
        Ok(Fed::More)
    }

    /// Parses the first piece (the header and `infer_rows` rows) once `pending` holds it,
    /// as the whole-object reader parses a file; `Fed::WholeObject` when that reader could
    /// read it otherwise.
    fn first_piece(&mut self) -> Result<Fed> {
        let Some(end) = rows_end(&self.pending, &self.settings, self.infer_rows) else {
            return Ok(Fed::More);
        };
        let separator = self.settings.separator.unwrap_or(self.format.separator);
        if has_lone_quote_field(&self.pending[..end], separator) {
            return Ok(Fed::WholeObject);
        }
        // The first piece ends at a record boundary: the scan starts again after it.
        let rest = self.pending.split_off(end);
        let piece = Bytes::from(std::mem::replace(&mut self.pending, rest));
        self.format.charge_table(&piece, &self.settings)?;
        match self
            .format
            .read(piece, Some(self.infer_rows), &self.settings)
        {
            Ok(df) if df.height() == self.infer_rows => {
                self.schema = Some(Arc::new(df.schema().as_ref().clone()));
                self.frames.push(df);
                Ok(Fed::More)
            }
            _ => Ok(Fed::WholeObject),
        }
    }

    /// Starts parsing `piece`, `records` records with no header, into the first piece's
    /// schema.
    fn later_piece(&mut self, piece: Bytes, records: usize) -> Result<Fed> {
        let len = piece.len();
        self.settings
            .charge_output(len as u64, || format!("{len} bytes of a table"))?;
        let schema = self.schema.clone().expect("after the first piece");
        let (format, settings) = (self.format, self.settings.clone());
        let parse = move || {
            let separator = settings.separator.unwrap_or(format.separator);
            if has_lone_quote_field(&piece, separator) {
                return None;
            }
            match format.read_rows(piece, schema, &settings) {
                Ok(df) if df.height() == records => Some(df),
                _ => None,
            }
        };
        match self.workers.start(parse) {
            Some(parsed) => self.keep(parsed),
            None => Ok(Fed::More),
        }
    }

    /// Keeps a parsed piece's frame, in order. A piece that did not parse as the
    /// whole-object reader would gives up.
    fn keep(&mut self, parsed: Result<Option<DataFrame>>) -> Result<Fed> {
        Ok(match parsed? {
            Some(df) => {
                self.frames.push(df);
                Fed::More
            }
            None => Fed::WholeObject,
        })
    }
}

impl DecodeParts for DelimitedParts {
    fn push(&mut self, part: Bytes) -> Result<Fed> {
        if self.schema.is_some() {
            return self.later_part(part);
        }
        // One allocation of the size needed, where growing by doubling would copy the
        // bytes several times.
        self.pending.reserve_exact(part.len());
        self.pending.extend_from_slice(&part);
        if self.first_piece()? == Fed::WholeObject {
            return Ok(Fed::WholeObject);
        }
        if self.schema.is_none() {
            return Ok(Fed::More);
        }
        // What followed the first piece, as a part of its own.
        let rest = Bytes::from(std::mem::take(&mut self.pending));
        self.later_part(rest)
    }

    fn finish(mut self: Box<Self>) -> Result<Option<Data>> {
        if self.schema.is_none() {
            // Fewer rows than the types are inferred from: the whole object is here.
            let whole = Bytes::from(std::mem::take(&mut self.pending));
            let df = self.format.decode_frame(whole, &self.settings)?;
            return Ok(Some(Data::Frame(df)));
        }
        if self.quoted {
            // A quote left open: what the whole-object reader makes of it.
            return Ok(None);
        }
        // The last record, with no line break after it.
        if !matches!(self.pending[..], [] | [b'\r']) {
            let last = Bytes::from(std::mem::take(&mut self.pending));
            if self.later_piece(last, 1)? == Fed::WholeObject {
                return Ok(None);
            }
        }
        let workers = std::mem::replace(&mut self.workers, PieceWorkers::new());
        for parsed in workers.finish() {
            if self.keep(parsed)? == Fed::WholeObject {
                return Ok(None);
            }
        }
        let mut frames = std::mem::take(&mut self.frames).into_iter();
        let mut df = frames.next().expect("the first piece");
        for frame in frames {
            df.vstack_mut_owned(frame)
                .map_err(|e| self.format.read_error(e))?;
        }
        Ok(Some(Data::Frame(df)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::csv::PIECE_BYTES_CSV;
    use crate::format::csv::{CSV, TSV};

    /// What the whole-object reader gives, inferring from `infer_rows` rows first as it
    /// does from [`INFER_ROWS`](super::super::INFER_ROWS).
    fn whole(format: &'static Delimited, text: &[u8], infer_rows: usize) -> DataFrame {
        try_whole(format, text, infer_rows).unwrap()
    }

    fn try_whole(
        format: &'static Delimited,
        text: &[u8],
        infer_rows: usize,
    ) -> PolarsResult<DataFrame> {
        let bytes = Bytes::copy_from_slice(text);
        let settings = ReadSettings::default();
        format
            .read(bytes.clone(), Some(infer_rows), &settings)
            .or_else(|_| format.read(bytes, None, &settings))
    }

    /// Decodes `text` given in `parts`; `None` when the decoder gave up.
    fn by_parts(
        format: &'static Delimited,
        parts: &[&[u8]],
        infer_rows: usize,
    ) -> Option<DataFrame> {
        by_pieces(format, parts, infer_rows, PIECE_BYTES_CSV)
    }

    /// Decodes `text` given in `parts`, cut into pieces of about `piece_bytes`; `None` when
    /// the decoder gave up.
    fn by_pieces(
        format: &'static Delimited,
        parts: &[&[u8]],
        infer_rows: usize,
        piece_bytes: usize,
    ) -> Option<DataFrame> {
        let settings = ReadSettings::default();
        let decoder = DelimitedParts::new(format, &settings, infer_rows, piece_bytes);
        let mut decoder = Box::new(decoder.unwrap());
        for part in parts {
            if decoder.push(Bytes::copy_from_slice(part)).unwrap() == Fed::WholeObject {
                return None;
            }
        }
        let data = decoder.finish().unwrap()?;
        Some(data.into_frame().unwrap())
    }

    fn assert_same(got: &DataFrame, want: &DataFrame, context: &str) {
        assert!(got.equals_missing(want), "{context}:\n{got}\n!=\n{want}");
        assert_eq!(got.schema(), want.schema(), "{context}");
    }

    /// A table with quoted line breaks (LF and CRLF inside quotes), doubled quotes, CRLF
    /// line ends, multi-byte UTF-8 and pandas' null tokens, no line break at its end.
    const TRICKY: &str = "id,name,note,price\r\n\
        1,Zoë,\"two\nlines\",1.5\r\n\
        2,\"Smith, J\",\"say \"\"hi\"\"\",NA\r\n\
        3,日本語,\"a\r\nb\",2.25\r\n\
        4,,plain,\r\n\
        5,\"x\"\"\",\"\",3\r\n\
        6,Łódź,\"x\n\ny\",-1e3\r\n\
        7,end,\"€\",4";

    /// Every cut of the text in two, and every run of parts of 1 to 7 bytes, gives the
    /// whole-object frame: quoted line breaks, CRLF, multi-byte characters split between
    /// parts; and so do pieces of one record each, and of about 9 bytes, within the parts.
    #[test]
    fn every_split_gives_the_whole_object_frame() {
        for (format, text) in [
            (&CSV, TRICKY.to_owned()),
            (&TSV, TRICKY.replace(',', "\t")),
            (&CSV, format!("{TRICKY}\r\n")),
            (&CSV, TRICKY.replace("\r\n", "\n")),
        ] {
            let text = text.as_bytes();
            for infer_rows in [1, 2, 3, 7] {
                let want = whole(format, text, infer_rows);
                assert_eq!(want.height(), 7);
                for piece in [1, 9, PIECE_BYTES_CSV] {
                    let of = format!("{} infer {infer_rows}, pieces of {piece}", format.name);
                    for at in 0..=text.len() {
                        let parts = [&text[..at], &text[at..]];
                        let got = by_pieces(format, &parts, infer_rows, piece);
                        let context = format!("{of}, cut at {at}");
                        assert_same(&got.expect("no reason to give up"), &want, &context);
                    }
                    for size in 1..=7 {
                        let parts: Vec<&[u8]> = text.chunks(size).collect();
                        let got = by_pieces(format, &parts, infer_rows, piece);
                        let context = format!("{of}, parts of {size}");
                        assert_same(&got.expect("no reason to give up"), &want, &context);
                    }
                }
            }
        }
    }

    /// A value that does not fit the types of the first rows: the decoder gives up, and
    /// the whole-object reader reads the column as floats.
    #[test]
    fn a_later_value_that_does_not_fit_gives_up() {
        let text = b"a,b\n1,x\n2,y\n3.5,z\n";
        assert_eq!(by_parts(&CSV, &[&text[..8], &text[8..]], 1), None);
        assert_eq!(
            whole(&CSV, text, 1).column("a").unwrap().dtype(),
            &DataType::Float64
        );
    }

    /// Blank lines and lone-quote fields are decoded whole rather than risk a difference.
    #[test]
    fn text_the_count_cannot_vouch_for_gives_up_or_matches() {
        for text in [
            &b"a,b\n1,x\n\n2,y\n3,z\n"[..],
            b"a,b\n1,x\n2,\"\n3,z\n",
            b"a,b\n1,x\n2,y\n3,\"open\n",
            b"a,b\n1,\"\nx\"\n2,y\n3,z\n",
        ] {
            let want = try_whole(&CSV, text, 1);
            let mut gave_up = 0;
            for at in 0..=text.len() {
                match (by_parts(&CSV, &[&text[..at], &text[at..]], 1), &want) {
                    (Some(got), Ok(want)) => {
                        assert_same(&got, want, &format!("{text:?} cut at {at}"))
                    }
                    (Some(got), Err(e)) => panic!("{text:?} cut at {at}: {got} where {e}"),
                    (None, _) => gave_up += 1,
                }
            }
            assert!(gave_up > 0, "{text:?}");
        }
    }

    /// Through the public decoder, with the production 10,000 inference rows: a UTF-8
    /// byte-order mark cut anywhere is dropped as the whole-object path drops it, and a
    /// UTF-16 one sends the object to the whole-object path (which transcodes it).
    #[test]
    fn a_byte_order_mark_cut_anywhere_is_dropped() {
        let rows = TRICKY.split_once("\r\n").unwrap().1;
        let mut text = b"\xEF\xBB\xBFid,name,note,price\r\n".to_vec();
        for _ in 0..2000 {
            text.extend_from_slice(rows.as_bytes());
            text.extend_from_slice(b"\r\n");
        }
        let want = crate::Format::CSV.decode_frame(text.clone()).unwrap();
        assert_eq!(want.height(), 14_000);
        let middle = text.len() / 2;
        for at in (0..=8).chain(middle - 3..middle + 3) {
            let mut decoder = crate::PartDecoder::new("t.csv", &crate::ReadOptions::new()).unwrap();
            for part in [&text[..at], &text[at..]] {
                assert!(
                    decoder.push(Bytes::copy_from_slice(part)).unwrap(),
                    "cut at {at}"
                );
            }
            let got = decoder.finish().unwrap().expect("no reason to give up");
            assert_same(&got, &want, &format!("cut at {at}"));
        }
        let mut decoder = crate::PartDecoder::new("t.csv", &crate::ReadOptions::new()).unwrap();
        assert!(!decoder.push(Bytes::from_static(b"\xFF\xFEa\x00")).unwrap());
    }

    #[test]
    fn options_it_does_not_take_are_decoded_whole() {
        let settings = ReadSettings {
            n_rows: Some(3),
            ..ReadSettings::default()
        };
        assert!(DelimitedParts::new(&CSV, &settings, 10, PIECE_BYTES_CSV).is_none());
        let settings = ReadSettings {
            columns: Some(vec!["a".into()]),
            ..ReadSettings::default()
        };
        assert!(DelimitedParts::new(&CSV, &settings, 10, PIECE_BYTES_CSV).is_none());
    }

    /// Each piece is charged before it is parsed: a budget too small for the whole text
    /// stops the decoder as it stops the whole-object reader.
    #[test]
    fn pieces_are_charged_to_the_output_budget() {
        let text = "a,b\n".to_owned() + &"1,x\n".repeat(1000);
        let settings = ReadSettings {
            limits: crate::Limits::new().max_decoded_size(2_000),
            ..ReadSettings::default()
        };
        let settings = ReadSettings {
            budget: Some(settings.budget()),
            ..settings
        };
        let mut decoder =
            Box::new(DelimitedParts::new(&CSV, &settings, 10, PIECE_BYTES_CSV).unwrap());
        let err = text
            .as_bytes()
            .chunks(500)
            .find_map(|part| decoder.push(Bytes::copy_from_slice(part)).err())
            .expect("over the budget");
        assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded, "{err}");
    }
}
