//! Which of pandas' default NA tokens a delimited text may hold as a whole field.
//!
//! polars compares every null value it is given with every field it parses. With pandas' 18
//! non-empty default tokens that comparison cost 5 in-memory decodes of the 100 MB benchmark
//! CSV about a third of their CPU (benches/README.md, issue 14), though that file holds none
//! of them. A token that is nowhere a whole field of the text cannot match a field, so
//! leaving it out of what polars is given changes nothing in the frame; finding out costs
//! one pass over the text at several GB/s.
//!
//! A field equal to a token, quoted or not, starts at the text's start (or after a UTF-8
//! BOM) or after a separator, a line end, `\r` or a quote, and is followed by one of those or
//! the text's end. Every token holds an `N` or an `n`:
//! - the tokens holding a `#` (`#N/A`, `-1.#IND`, ...) are looked for at every `#`, a rare
//!   byte;
//! - the others (`NA`, `nan`, `-NaN`, `<NA>`, ...) have their first `N`/`n` at the field's
//!   start or one byte after it (after `-` or `<`), followed by `/`, `a`, `o` or `u` in
//!   either case. Blocks of 64 bytes are first tested for such a place with plain
//!   comparisons the compiler vectorizes, and only blocks that may hold one are looked at
//!   byte by byte.

use super::PANDAS_NA_VALUES;

/// Bytes tested together for a place where a token could start.
const BLOCK: usize = 64;

/// The first bytes, looked at one by one: the block test needs two bytes before a place, and
/// a field may start after a BOM.
const HEAD: usize = 8;

/// pandas' default NA tokens that may be a whole field of `bytes`, in pandas' order: `""`
/// always, and each other token found where a field could start and end.
pub(crate) fn default_na_tokens_in(bytes: &[u8], separator: u8) -> Vec<&'static str> {
    let (empty, tokens) = PANDAS_NA_VALUES.split_at(1);
    let text = Text::new(bytes, separator);
    let mut found = vec![false; tokens.len()];
    // Each token with the place of the byte it is looked for at: its `#`, else its first
    // `N`/`n`. Worked out once, not at every hit.
    let (with_hash, with_n): (Vec<_>, Vec<_>) = tokens
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let hash = token.find('#');
            let n = token.bytes().position(|b| b | 0x20 == b'n').unwrap_or(0);
            (i, *token, hash, hash.unwrap_or(n))
        })
        .partition(|(_, _, hash, _)| hash.is_some());
    for hash in memchr::memchr_iter(b'#', bytes) {
        for &(i, token, _, at) in &with_hash {
            found[i] |= hash.checked_sub(at).is_some_and(|s| text.holds(s, token));
        }
    }
    let mut look_at = |n: usize| {
        if bytes[n] | 0x20 != b'n' {
            return;
        }
        for &(i, token, _, at) in &with_n {
            found[i] |= n.checked_sub(at).is_some_and(|s| text.holds(s, token));
        }
    };
    let head = HEAD.min(bytes.len());
    (0..head).for_each(&mut look_at);
    let mut start = head;
    while start + BLOCK < bytes.len() {
        if text.block_may_hold_a_token(start) {
            (start..start + BLOCK).for_each(&mut look_at);
        }
        start += BLOCK;
    }
    (start..bytes.len()).for_each(look_at);
    let present = tokens.iter().zip(found).filter(|(_, f)| *f);
    empty
        .iter()
        .chain(present.map(|(t, _)| t))
        .copied()
        .collect()
}

/// A delimited text and the bytes that end its fields.
struct Text<'a> {
    bytes: &'a [u8],
    separator: u8,
    /// Whether each byte may come right before or after a field: the separator, `\n`, `\r`
    /// and the quote.
    boundary: [bool; 256],
    /// Whether the text starts with a UTF-8 BOM, after which its first field starts.
    bom: bool,
}

impl<'a> Text<'a> {
    fn new(bytes: &'a [u8], separator: u8) -> Self {
        let mut boundary = [false; 256];
        for b in [separator, b'\n', b'\r', b'"'] {
            boundary[usize::from(b)] = true;
        }
        let bom = bytes.starts_with(b"\xEF\xBB\xBF");
        Text {
            bytes,
            separator,
            boundary,
            bom,
        }
    }

    /// Whether a field may start at `at`.
    fn starts_field(&self, at: usize) -> bool {
        at == 0 || (self.bom && at == 3) || self.boundary[usize::from(self.bytes[at - 1])]
    }

    /// Whether a field may end at `at` (the byte there is not in it).
    fn ends_field(&self, at: usize) -> bool {
        self.bytes
            .get(at)
            .is_none_or(|&b| self.boundary[usize::from(b)])
    }

    /// Whether `token` is a whole field starting at `start`, as far as the bytes around it
    /// can tell.
    fn holds(&self, start: usize, token: &str) -> bool {
        self.starts_field(start)
            && self.bytes[start..].starts_with(token.as_bytes())
            && self.ends_field(start + token.len())
    }

    /// Whether an `N`/`n` in `bytes[start..start + BLOCK]` may be the first of a token
    /// without a `#` (module docs). Needs `2 <= start` and `start + BLOCK < bytes.len()`.
    fn block_may_hold_a_token(&self, start: usize) -> bool {
        let window = |from: usize| -> &[u8; BLOCK] {
            self.bytes[from..from + BLOCK]
                .try_into()
                .expect("a slice of BLOCK bytes")
        };
        let (before2, before, here, after) = (
            window(start - 2),
            window(start - 1),
            window(start),
            window(start + 1),
        );
        let sep = self.separator;
        let boundary = |b: u8| (b == sep) | (b == b'\n') | (b == b'\r') | (b == b'"');
        let mut any = false;
        for i in 0..BLOCK {
            let n = here[i] | 0x20 == b'n';
            let next = after[i] | 0x20;
            let second = (next == b'a') | (next == b'o') | (next == b'u') | (after[i] == b'/');
            let prefix = (before[i] == b'-') | (before[i] == b'<');
            let starts = boundary(before[i]) | (prefix & boundary(before2[i]));
            any |= n & second & starts;
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every token that some field of `bytes` equals, found by splitting the text as polars
    /// reads a well-formed one: the reference the scan must never fall short of.
    fn tokens_that_are_fields(bytes: &[u8], separator: u8) -> Vec<&'static str> {
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let fields: Vec<&[u8]> = text
            .split(|&b| b == separator || b == b'\n')
            .map(|f| f.strip_suffix(b"\r").unwrap_or(f))
            .map(|f| {
                f.strip_prefix(b"\"")
                    .and_then(|f| f.strip_suffix(b"\""))
                    .unwrap_or(f)
            })
            .collect();
        PANDAS_NA_VALUES
            .iter()
            .copied()
            .filter(|t| t.is_empty() || fields.contains(&t.as_bytes()))
            .collect()
    }

    #[test]
    fn the_offsets_the_block_test_assumes_hold_for_every_token() {
        for token in &PANDAS_NA_VALUES[1..] {
            if token.contains('#') {
                continue;
            }
            let bytes = token.as_bytes();
            let n = bytes.iter().position(|b| b | 0x20 == b'n').unwrap();
            assert!(n <= 1, "{token}");
            assert!(n == 0 || matches!(bytes[0], b'-' | b'<'), "{token}");
            assert!(
                matches!(bytes[n + 1] | 0x20, b'a' | b'o' | b'u') || bytes[n + 1] == b'/',
                "{token}"
            );
        }
    }

    #[test]
    fn finds_each_token_wherever_a_field_can_be() {
        let filler = "word,1.5,Chen,nano,xNA,NAN,".repeat(5);
        for &separator in b",\t;" {
            let sep = char::from(separator);
            for token in &PANDAS_NA_VALUES[1..] {
                let places = [
                    format!("{token}{sep}a\n{filler}"),
                    format!("\u{FEFF}{token}{sep}a\n{filler}"),
                    format!("{filler}\na{sep}{token}{sep}b\n{filler}"),
                    format!("{filler}\n{token}\r\n{filler}"),
                    format!("{filler}\na{sep}\"{token}\"\n{filler}"),
                    format!("{filler}{filler}{filler}\na{sep}{token}"),
                    format!("{filler}{filler}{sep}{token}\n"),
                ];
                for text in places {
                    let text = text.replace(',', &sep.to_string());
                    let got = default_na_tokens_in(text.as_bytes(), separator);
                    assert!(got.contains(token), "{token:?} in {text:?}: {got:?}");
                }
            }
        }
    }

    #[test]
    fn leaves_out_tokens_that_are_only_inside_fields() {
        let text =
            "id,name,note\n1,Nana,banana\n2,NAN,xnull\n3,Ana,#NAB\n4,N/Aa,1.#INDIA\n".repeat(40);
        assert_eq!(default_na_tokens_in(text.as_bytes(), b','), [""]);
        assert_eq!(default_na_tokens_in(b"", b','), [""]);
    }

    #[test]
    fn never_falls_short_of_the_fields_in_random_texts() {
        // Deterministic pseudo-random texts of pieces that make tokens and near misses.
        let pieces = [
            "N", "n", "A", "a", "/", "#", "-", "<", ">", "1", ".", "I", "D", "Q", "U", "L", "o",
            "e", "u", "l", ",", "\n", "\r\n", "\"", "x", " ", "NaN", "null", "N/A", "é",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..3000 {
            let mut text = String::new();
            let len = (state % 300) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            let got = default_na_tokens_in(text.as_bytes(), b',');
            for token in tokens_that_are_fields(text.as_bytes(), b',') {
                assert!(got.contains(&token), "{token:?} in {text:?}: {got:?}");
            }
        }
    }
}
