//! Text: any extension no other format claims, or none. UTF-8, with a leading BOM dropped.

use bytes::Bytes;

use super::codec::{Codec, cannot_encode};
use crate::data::Data;
use crate::error::{Error, ErrorKind, Result};
use crate::settings::{ReadSettings, WriteSettings};

pub(crate) struct Text;

impl Codec for Text {
    fn name(&self) -> &'static str {
        "text"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["txt", "text", "md", "log"]
    }

    fn content_type(&self) -> &'static str {
        "text/plain; charset=utf-8"
    }

    fn is_text(&self) -> bool {
        true
    }

    fn decode(&self, bytes: Bytes, _: &ReadSettings) -> Result<Data> {
        let bytes = bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .map_or(bytes.clone(), |rest| {
                bytes.slice(bytes.len() - rest.len()..)
            });
        String::from_utf8(Vec::from(bytes))
            .map(Data::Text)
            .map_err(|e| {
                let at = e.utf8_error().valid_up_to();
                Error::new(
                    ErrorKind::Decode,
                    format!(
                        "not UTF-8 text (invalid byte at offset {at}); use download_bytes for \
                         binary or other encodings"
                    ),
                )
                .with_source(e)
            })
    }

    fn encode(&self, data: &Data, _: &WriteSettings) -> Result<Vec<u8>> {
        match data {
            Data::Text(text) => Ok(text.as_bytes().to_vec()),
            _ => Err(cannot_encode(
                data,
                "text",
                "text (use .csv, .xlsx, .json or .pkl for other values)",
            )),
        }
    }
}
