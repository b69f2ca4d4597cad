//! A part of a local file, read or written at an offset through a handle of its own.
//!
//! Parallel parts must not share a file cursor. Unix and Windows each have positioned I/O
//! (`read_exact_at`, `seek_read`), under different names and semantics; instead, every part
//! opens the file for itself and seeks, with nothing but portable `std::fs`. One `open` per
//! part of several MiB costs nothing next to the part's transfer. On Windows, `std` opens files
//! with read, write and delete sharing, so the handles of parallel parts coexist.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The `len` bytes of the file at `path` from `offset`; an error if the file is shorter.
pub(super) fn read_part(path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut part = vec![0u8; len];
    file.read_exact(&mut part)?;
    Ok(part)
}

/// Writes `bytes` into the existing file at `path` from `offset`.
pub(super) fn write_part(path: &Path, offset: u64, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_land_at_their_offsets_in_any_order() {
        let dir = std::env::temp_dir().join(format!("s3io-file-part-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("parts.bin");
        File::create(&path).unwrap().set_len(10).unwrap();
        write_part(&path, 6, b"ghij").unwrap();
        write_part(&path, 0, b"abc").unwrap();
        write_part(&path, 3, b"def").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abcdefghij");
        assert_eq!(read_part(&path, 2, 5).unwrap(), b"cdefg");
        let err = read_part(&path, 8, 5).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
