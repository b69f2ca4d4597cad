//! Hive's side of a dataset: `col=value` path segments, escaped as Hive escapes them,
//! unescaped as pyarrow and Spark unescape them, and partition values typed as pyarrow types
//! them.

use polars::prelude::*;

/// What Hive, Spark, pyarrow and awswrangler write for a null (or empty) partition value.
pub const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// Whether Hive escapes `c` in a partition path (Hive's `FileUtils.escapePathName`): control
/// characters, `"`, `#`, `%`, `'`, `*`, `/`, `:`, `=`, `?`, `\`, DEL, `{`, `[`, `]`, `^`.
/// Spaces and non-ASCII letters stay as they are.
fn hive_escapes(c: char) -> bool {
    matches!(
        c,
        '\u{01}'
            ..='\u{1F}'
                | '"'
                | '#'
                | '%'
                | '\''
                | '*'
                | '/'
                | ':'
                | '='
                | '?'
                | '\\'
                | '\u{7F}'
                | '{'
                | '['
                | ']'
                | '^'
    )
}

/// A partition value as a path segment's right-hand side: Hive-escaped (`a/b` → `a%2Fb`), and
/// `__HIVE_DEFAULT_PARTITION__` for a null or empty value, as Hive and Spark write them.
pub fn escape(value: Option<&str>) -> String {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return HIVE_NULL.to_owned();
    };
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if hive_escapes(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A path segment's value unescaped: every `%XX` becomes its byte, so both Hive's escapes
/// (`%2F`) and pyarrow's URI escapes (`%20`, `%C3%A9`) come back; a `%` not followed by two
/// hex digits stays as it is. `__HIVE_DEFAULT_PARTITION__` is null.
pub fn unescape(segment: &str) -> Option<String> {
    if segment == HIVE_NULL {
        return None;
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// One file's partition: the `col=value` segments of its key below the dataset's prefix, in
/// order, values unescaped (`None` for null). Given to a partition filter before any GET.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Partition {
    values: Vec<(String, Option<String>)>,
}

impl Partition {
    /// The partition of `relative`, a key below the dataset's prefix (`year=2024/a.parquet`):
    /// every folder segment of the form `col=value`. Other folder segments are not partitions.
    pub(crate) fn of_key(relative: &str) -> Partition {
        let mut segments: Vec<&str> = relative.split('/').collect();
        segments.pop();
        let values = segments
            .into_iter()
            .filter_map(|segment| segment.split_once('='))
            .filter(|(column, _)| !column.is_empty())
            .map(|(column, value)| (column.to_owned(), unescape(value)))
            .collect();
        Partition { values }
    }

    /// The value of `column`: `None` when it is null or the key has no such segment (see
    /// [`is_null`](Self::is_null)).
    pub fn get(&self, column: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(c, _)| c == column)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether the key names `column` with the null value `__HIVE_DEFAULT_PARTITION__`.
    pub fn is_null(&self, column: &str) -> bool {
        self.values.iter().any(|(c, v)| c == column && v.is_none())
    }

    /// Every `(column, value)` pair, outermost folder first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.values.iter().map(|(c, v)| (c.as_str(), v.as_deref()))
    }
}

/// The dtype pyarrow gives a partition column it infers: `Int32` when every value that is
/// not null parses as one, else `String`.
pub fn infer_dtype<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> DataType {
    let all_ints = values
        .into_iter()
        .flatten()
        .all(|v| v.trim().parse::<i32>().is_ok() && !v.trim().is_empty() && v.trim() == v);
    if all_ints {
        DataType::Int32
    } else {
        DataType::String
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_escapes_what_hive_escapes_and_unescapes_uri_escapes_too() {
        assert_eq!(escape(Some("a b")), "a b");
        assert_eq!(escape(Some("a/b=c%d")), "a%2Fb%3Dc%25d");
        assert_eq!(escape(Some("Zürich ☃")), "Zürich ☃");
        assert_eq!(escape(Some("x:y*?[]")), "x%3Ay%2A%3F%5B%5D");
        assert_eq!(escape(Some("tab\there")), "tab%09here");
        assert_eq!(escape(None), HIVE_NULL);
        assert_eq!(escape(Some("")), HIVE_NULL);
        for value in [
            "a b",
            "a/b=c%d",
            "Zürich ☃",
            "100%",
            "%zz",
            "50%2",
            "x:y*?[]",
        ] {
            assert_eq!(unescape(&escape(Some(value))).as_deref(), Some(value));
        }
        // pyarrow escapes as a URI does; Spark leaves a stray `%` alone.
        assert_eq!(
            unescape("Z%C3%BCrich%20%E2%98%83").as_deref(),
            Some("Zürich ☃")
        );
        assert_eq!(unescape("100%").as_deref(), Some("100%"));
        assert_eq!(unescape("%zz%4").as_deref(), Some("%zz%4"));
        assert_eq!(unescape(HIVE_NULL), None);
    }

    #[test]
    fn partitions_are_the_col_value_folders_of_a_key() {
        let p = Partition::of_key("year=2024/city=a%2Fb/x/part-0.parquet");
        assert_eq!(p.get("year"), Some("2024"));
        assert_eq!(p.get("city"), Some("a/b"));
        assert_eq!(p.get("x"), None);
        let p = Partition::of_key(&format!("k={HIVE_NULL}/v=a=b/f.parquet"));
        assert!(p.is_null("k"));
        assert_eq!(p.get("k"), None);
        assert_eq!(p.get("v"), Some("a=b"), "split at the first `=`");
        assert_eq!(Partition::of_key("year=2024.parquet"), Partition::default());
    }

    #[test]
    fn partition_types_are_inferred_as_pyarrow_infers_them() {
        assert_eq!(
            infer_dtype([Some("2024"), None, Some("-3")]),
            DataType::Int32
        );
        assert_eq!(infer_dtype([Some("3000000000")]), DataType::String);
        assert_eq!(infer_dtype([Some("1.5")]), DataType::String);
        assert_eq!(infer_dtype([Some("2024"), Some("x")]), DataType::String);
        assert_eq!(infer_dtype([Some("")]), DataType::String);
    }
}
