//! Where objects are: `s3://bucket/key` URIs and key patterns (globs).

use std::fmt;

use s3io_formats::{Error, ErrorKind, Result};

/// A parsed `s3://bucket/key` URI. The key is taken literally: spaces, Unicode, `+`, `%` and
/// `=` are part of it, with no percent-decoding, as in the AWS CLI and awswrangler.
///
/// ```
/// use s3io::S3Uri;
///
/// let uri = S3Uri::parse("s3://my-bucket/2024 data/a+b=c%.csv").unwrap();
/// assert_eq!((uri.bucket(), uri.key()), ("my-bucket", "2024 data/a+b=c%.csv"));
/// assert_eq!(uri.to_string(), "s3://my-bucket/2024 data/a+b=c%.csv");
/// assert!(S3Uri::parse("https://my-bucket/key").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Uri {
    bucket: String,
    key: String,
}

impl S3Uri {
    /// Parses `s3://bucket` or `s3://bucket/key` (`S3://` and `s3a://` too).
    pub fn parse(uri: &str) -> Result<S3Uri> {
        let invalid = |why: &str| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("{uri:?} is not an s3:// URI: {why}"),
            )
        };
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| invalid("no scheme"))?;
        if !matches!(scheme.to_ascii_lowercase().as_str(), "s3" | "s3a") {
            return Err(invalid("the scheme is not s3"));
        }
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("no bucket"));
        }
        Ok(S3Uri {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key; empty for a bare `s3://bucket`.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for S3Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// A key pattern: `*` and `?` match within one path segment, `[abc]` / `[a-z]` / `[!a]` match
/// one character from a set, and `**` matches across `/`. A key without `*`, `?` or `[` is
/// literal.
///
/// ```
/// use s3io::KeyPattern;
///
/// let p = KeyPattern::new("data/2024-*/part-?.csv");
/// assert_eq!(p.literal_prefix(), "data/2024-");
/// assert!(p.matches("data/2024-01/part-1.csv"));
/// assert!(!p.matches("data/2024-01/sub/part-1.csv"));
/// assert!(KeyPattern::new("data/**.csv").matches("data/a/b/c.csv"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    pattern: Vec<char>,
    prefix_len: usize,
}

impl KeyPattern {
    /// A pattern from its text.
    pub fn new(pattern: &str) -> KeyPattern {
        let prefix_len = pattern.find(['*', '?', '[']).unwrap_or(pattern.len());
        KeyPattern {
            prefix_len: pattern[..prefix_len].chars().count(),
            pattern: pattern.chars().collect(),
        }
    }

    /// Whether the text has any wildcard; a key without one names exactly one object.
    pub fn is_glob(key: &str) -> bool {
        key.contains(['*', '?', '['])
    }

    /// The text before the first wildcard: the prefix to list, never the whole bucket.
    pub fn literal_prefix(&self) -> String {
        self.pattern[..self.prefix_len].iter().collect()
    }

    /// Whether `key` matches the whole pattern.
    pub fn matches(&self, key: &str) -> bool {
        let key: Vec<char> = key.chars().collect();
        glob_match(&self.pattern, &key)
    }
}

/// Glob matching by dynamic programming over (pattern, text) positions: linear in their
/// product, whatever the stars.
fn glob_match(pattern: &[char], text: &[char]) -> bool {
    let mut memo = vec![None; (pattern.len() + 1) * (text.len() + 1)];
    Matcher {
        pattern,
        text,
        memo: &mut memo,
    }
    .at(0, 0)
}

struct Matcher<'a> {
    pattern: &'a [char],
    text: &'a [char],
    memo: &'a mut [Option<bool>],
}

impl Matcher<'_> {
    /// Whether `pattern[p..]` matches `text[t..]`.
    fn at(&mut self, p: usize, t: usize) -> bool {
        let slot = p * (self.text.len() + 1) + t;
        if let Some(known) = self.memo[slot] {
            return known;
        }
        let (pattern, text) = (self.pattern, self.text);
        let result = match pattern.get(p) {
            None => t == text.len(),
            Some('*') if pattern.get(p + 1) == Some(&'*') => {
                if pattern.get(p + 2) == Some(&'/') {
                    // `**/`: no folder, or any run of text that ends with `/`.
                    self.at(p + 3, t)
                        || (t..text.len()).any(|end| text[end] == '/' && self.at(p + 3, end + 1))
                } else {
                    (t..=text.len()).any(|end| self.at(p + 2, end))
                }
            }
            Some('*') => {
                let segment_end = text[t..]
                    .iter()
                    .position(|c| *c == '/')
                    .map_or(text.len(), |i| t + i);
                (t..=segment_end).any(|end| self.at(p + 1, end))
            }
            Some('?') => t < text.len() && text[t] != '/' && self.at(p + 1, t + 1),
            Some('[') if t < text.len() => match class_match(pattern, p, text[t]) {
                Some((matched, next)) => matched && self.at(next, t + 1),
                // An unclosed class is a literal `[`.
                None => text[t] == '[' && self.at(p + 1, t + 1),
            },
            Some(c) => t < text.len() && text[t] == *c && self.at(p + 1, t + 1),
        };
        self.memo[slot] = Some(result);
        result
    }
}

/// Matches `c` against the class starting at `pattern[start] == '['`; returns whether it
/// matched and the index after the class, or `None` for an unclosed class (then `[` is literal).
fn class_match(pattern: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negated = matches!(pattern.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while let Some(&pc) = pattern.get(i) {
        if pc == ']' && !first {
            return Some((matched != negated && c != '/', i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|e| *e != ']') {
            let end = pattern[i + 2];
            matched |= (pc..=end).contains(&c);
            i += 3;
        } else {
            matched |= pc == c;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let m = |p: &str, k: &str| KeyPattern::new(p).matches(k);
        assert!(m("a/*.csv", "a/x.csv"));
        assert!(!m("a/*.csv", "a/b/x.csv"));
        assert!(m("a/**", "a/b/c/d"));
        assert!(m("a/**/x.csv", "a/x.csv"));
        assert!(m("a/**/x.csv", "a/b/c/x.csv"));
        assert!(!m("a/**/x.csv", "a/bx.csv"));
        assert!(m("**", "any/thing") && m("**/*.csv", "top.csv") && m("**/*.csv", "a/b.csv"));
        assert!(m("part-[0-9].csv", "part-7.csv"));
        assert!(!m("part-[!0-9].csv", "part-7.csv"));
        assert!(m("part-[!0-9].csv", "part-x.csv"));
        assert!(m("a?c", "abc") && !m("a?c", "a/c"));
        assert!(m("*", "") && !m("?", ""));
        assert!(m("[unclosed", "[unclosed"));
        assert!(m("월별 *.csv", "월별 매출.csv"));
        assert_eq!(KeyPattern::new("data/[ab]/*.csv").literal_prefix(), "data/");
        assert_eq!(
            KeyPattern::new("plain/key.csv").literal_prefix(),
            "plain/key.csv"
        );
    }

    #[test]
    fn uris() {
        assert!(S3Uri::parse("s3://").is_err());
        assert_eq!(S3Uri::parse("s3://b").unwrap().key(), "");
        assert_eq!(S3Uri::parse("S3://b/k/").unwrap().key(), "k/");
    }
}
