//! Text encodings of text formats (CSV, TSV, JSON, NDJSON, text).
//!
//! s3io's decoders read UTF-8. Files saved by Windows Excel and Notepad are often not: "CSV
//! UTF-8" starts with a byte-order mark, "Unicode Text" is UTF-16 with a BOM, and plain "CSV"
//! is the ANSI code page, Windows-1252 in western Europe and the Americas. A BOM is always
//! honoured; a single-byte code page cannot be told from UTF-8 by looking, so it is used only
//! when you ask for it with `ReadOptions::encoding`.

use std::borrow::Cow;

use bytes::Bytes;

use crate::error::{Error, ErrorKind, Result};

/// A text encoding for reading text formats.
///
/// ```
/// use s3io_formats::{Data, Encoding, Format, ReadOptions};
///
/// let latin1 = b"name\ncaf\xe9\n";
/// let options = ReadOptions::csv().encoding(Encoding::Latin1);
/// let Data::Frame(df) = Format::CSV.decode_with(&latin1[..], &options).unwrap() else {
///     panic!("a frame")
/// };
/// assert_eq!(df.column("name").unwrap().str().unwrap().get(0), Some("café"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// UTF-8, with or without a BOM: the default.
    Utf8,
    /// UTF-16, little-endian unless a BOM says otherwise (Excel's "Unicode Text").
    Utf16Le,
    /// UTF-16, big-endian unless a BOM says otherwise.
    Utf16Be,
    /// ISO-8859-1: every byte is the code point of the same number.
    Latin1,
    /// Windows-1252, the ANSI code page of western Windows: Latin-1 plus `€`, curly quotes
    /// and dashes in 0x80–0x9F.
    Windows1252,
}

/// UTF-8 text from `bytes` in `encoding` (UTF-8 when `None`). A BOM decides over the
/// requested encoding and is removed.
pub(crate) fn to_utf8(bytes: Bytes, encoding: Option<Encoding>) -> Result<Bytes> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Ok(bytes.slice(bytes.len() - rest.len()..));
    }
    let (encoding, body) = match bytes.as_ref() {
        [0xFF, 0xFE, rest @ ..] => (encoding_rs::UTF_16LE, rest),
        [0xFE, 0xFF, rest @ ..] => (encoding_rs::UTF_16BE, rest),
        _ => match encoding.unwrap_or(Encoding::Utf8) {
            Encoding::Utf8 => return Ok(bytes),
            Encoding::Latin1 => return Ok(latin1(&bytes)),
            Encoding::Utf16Le => (encoding_rs::UTF_16LE, bytes.as_ref()),
            Encoding::Utf16Be => (encoding_rs::UTF_16BE, bytes.as_ref()),
            Encoding::Windows1252 => (encoding_rs::WINDOWS_1252, bytes.as_ref()),
        },
    };
    match encoding.decode_without_bom_handling_and_without_replacement(body) {
        Some(Cow::Borrowed(text)) => Ok(Bytes::copy_from_slice(text.as_bytes())),
        Some(Cow::Owned(text)) => Ok(Bytes::from(text)),
        None => Err(Error::new(
            ErrorKind::Decode,
            format!("the text is not valid {}", encoding.name()),
        )),
    }
}

/// Latin-1 to UTF-8: bytes below 0x80 stay, the rest become two bytes.
fn latin1(bytes: &[u8]) -> Bytes {
    if bytes.is_ascii() {
        return Bytes::copy_from_slice(bytes);
    }
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    Bytes::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boms_and_code_pages_become_utf8() {
        let utf8 = |b: &[u8], e| to_utf8(Bytes::copy_from_slice(b), e).unwrap();
        assert_eq!(utf8(b"\xEF\xBB\xBFa\xC3\xA9", None), "aé".as_bytes());
        assert_eq!(utf8(b"\xFF\xFEa\x00\xE9\x00", None), "aé".as_bytes());
        assert_eq!(
            utf8(b"\xFE\xFF\x00a\x00\xE9", Some(Encoding::Latin1)),
            "aé".as_bytes()
        );
        assert_eq!(
            utf8(b"caf\xE9 \x80", Some(Encoding::Latin1)),
            "café \u{80}".as_bytes()
        );
        assert_eq!(
            utf8(b"caf\xE9 \x80", Some(Encoding::Windows1252)),
            "café €".as_bytes()
        );
        assert_eq!(utf8(b"a\x00", Some(Encoding::Utf16Le)), "a".as_bytes());
        let odd = to_utf8(Bytes::from_static(b"\xFF\xFEa"), None).unwrap_err();
        assert_eq!(odd.kind(), ErrorKind::Decode);
    }
}
