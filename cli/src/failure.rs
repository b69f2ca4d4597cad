//! Why a command did not succeed, and how that is said: one line on standard error.

use std::io::{self, Write};

/// Why a command did not succeed (exit status 1).
pub enum Failure {
    /// An s3io call failed; its `Display` is the message.
    S3(s3io::Error),
    /// Reading or writing something local failed: what, and why.
    Io(String, io::Error),
    /// Something else the user must fix.
    Other(String),
}

impl From<s3io::Error> for Failure {
    fn from(e: s3io::Error) -> Self {
        Failure::S3(e)
    }
}

/// What a command returns.
pub type Outcome = Result<(), Failure>;

/// The failure of writing to standard output.
pub fn stdout_failed(e: io::Error) -> Failure {
    Failure::Io("cannot write to standard output".to_owned(), e)
}

/// A line on standard error; unlike `eprintln!`, never a panic when stderr is closed.
pub fn say(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// Error messages are one line, whatever a decoder put in them.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `io::Error` behind an s3io error, if one is.
pub fn io_cause(e: &s3io::Error) -> Option<&io::Error> {
    std::iter::successors(std::error::Error::source(e), |e| e.source())
        .find_map(|e| e.downcast_ref::<io::Error>())
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn messages_fold_to_one_line() {
        assert_eq!(one_line("a\n  b \n\n c"), "a b c");
        assert_eq!(one_line("one"), "one");
    }
}
