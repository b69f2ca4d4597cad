//! A pickle taken in parts as a download receives them, with its large bytes payloads lifted
//! out into buffers of their own.
//!
//! A pickled DataFrame is mostly a few large payloads (numpy blocks, pyarrow buffers) inside
//! a few hundred opcodes. Held as one buffer, the pickle stays in memory until the last
//! column is built from it, and the frame doubles it. Here each BINBYTES, BINBYTES8 or
//! BYTEARRAY8 of at least [`LIFT`] bytes is copied, as its bytes arrive, into a buffer of
//! its own, and the opcode stays in a small skeleton with a count of zero, which the machine
//! reads back as that buffer ([`Lifted::payload_at`]). The parts themselves are let go as
//! they are read, and `convert` lets each payload go once the last block that uses it is
//! built.
//!
//! Nothing is decided here: the skeleton is the pickle with its payloads taken out, byte for
//! byte otherwise, and where the opcodes cannot be followed (an unknown opcode, a line
//! longer than [`MAX_LINE`], anything after STOP) the rest is copied as it is, for the
//! machine to refuse or read as it would the whole object. No buffer is sized from a
//! declared length: a payload grows with the bytes that actually arrive.

use bytes::Bytes;

/// The smallest bytes payload lifted into a buffer of its own.
pub(crate) const LIFT: u64 = 64 << 10;
/// The longest text-line argument (protocol 0) followed across parts; past it, the rest of
/// the pickle is copied as it is.
const MAX_LINE: usize = 1 << 20;
/// The most address space set aside for a payload from its declared length before its
/// bytes arrive. Only what arrives is written, so only that becomes resident; the rest
/// saves the copies of growing the buffer by doubling.
const RESERVE_MAX: u64 = 256 << 20;
/// How many bytes of a part are joined to an unfinished opcode at a time.
const CARRY_STEP: usize = 64 << 10;

/// A pickle with its large payloads taken out.
pub(crate) struct Lifted {
    /// The pickle, each lifted payload replaced by nothing and its count by zero.
    pub(crate) skeleton: Bytes,
    /// The lifted payloads, in order.
    pub(crate) payloads: Vec<Payload>,
}

/// A lifted payload, in a buffer of its own aligned to 8 bytes.
pub(crate) struct Payload {
    /// Where it was in the skeleton: right after its opcode's zero count.
    pub(crate) at: usize,
    pub(crate) bytes: Bytes,
}

impl Lifted {
    /// A whole pickle, nothing lifted.
    pub(crate) fn whole(bytes: Bytes) -> Lifted {
        Lifted {
            skeleton: bytes,
            payloads: Vec::new(),
        }
    }

    /// The index of the payload lifted from skeleton offset `at`, if one was.
    pub(crate) fn payload_at(&self, at: usize) -> Option<usize> {
        self.payloads.binary_search_by_key(&at, |p| p.at).ok()
    }

    /// The bytes of every payload.
    pub(crate) fn payload_len(&self) -> u64 {
        self.payloads.iter().map(|p| p.bytes.len() as u64).sum()
    }

    /// Where skeleton offset `at` lies in the pickle as it was sent, for messages.
    pub(crate) fn origin(&self, at: usize) -> usize {
        let before = self.payloads.iter().take_while(|p| p.at <= at);
        at + before.map(|p| p.bytes.len()).sum::<usize>()
    }
}

/// What the next opcode spans, read from its first bytes.
enum Extent {
    /// More bytes are needed to tell.
    Need,
    /// An opcode of this many bytes, arguments included.
    Op(usize),
    /// A counted argument: `header` bytes of opcode and count, then `count` bytes.
    Counted {
        header: usize,
        count: u64,
        lift: bool,
    },
    /// STOP, or what cannot be followed: the rest is copied as it is.
    Rest,
}

/// The extent of the opcode at the start of `buf`, lifting payloads from `lift` bytes up.
fn extent(buf: &[u8], lift: u64) -> Extent {
    let Some(&op) = buf.first() else {
        return Extent::Need;
    };
    let fixed = |n: usize| {
        if buf.len() > n {
            Extent::Op(1 + n)
        } else {
            Extent::Need
        }
    };
    let counted = |n: usize, liftable: bool| {
        let Some(raw) = buf.get(1..1 + n) else {
            return Extent::Need;
        };
        let count = raw
            .iter()
            .rev()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        Extent::Counted {
            header: 1 + n,
            count,
            lift: liftable && count >= lift,
        }
    };
    let lines = |n: usize| {
        let mut end = 1;
        for _ in 0..n {
            let rest = &buf[end..buf.len().min(1 + MAX_LINE)];
            match rest.iter().position(|b| *b == b'\n') {
                Some(at) => end += at + 1,
                None if buf.len() > MAX_LINE => return Extent::Rest,
                None => return Extent::Need,
            }
        }
        Extent::Op(end)
    };
    match op {
        b'.' => Extent::Rest,
        // No argument.
        b'N' | 0x88 | 0x89 | b'(' | b')' | b']' | b'}' | 0x8f | b'0' | b'1' | b'2' | b'a'
        | b'e' | b's' | b'u' | 0x90 | 0x91 | b't' | 0x85 | 0x86 | 0x87 | b'l' | b'd' | b'R'
        | 0x81 | 0x92 | b'b' | b'o' | 0x93 | 0x94 | 0x97 | 0x98 | b'Q' => Extent::Op(1),
        b'K' | b'q' | b'h' | 0x80 | 0x82 => fixed(1),
        b'M' | 0x83 => fixed(2),
        b'J' | b'r' | b'j' | 0x84 => fixed(4),
        b'G' | 0x95 => fixed(8),
        0x8a | b'C' | b'U' | 0x8c => counted(1, false),
        b'B' => counted(4, true),
        0x8b | b'T' | b'X' => counted(4, false),
        0x8e | 0x96 => counted(8, true),
        0x8d => counted(8, false),
        b'I' | b'L' | b'F' | b'S' | b'V' | b'P' | b'p' | b'g' => lines(1),
        b'c' | b'i' => lines(2),
        _ => Extent::Rest,
    }
}

/// A payload being lifted: its opcode and count, and the bytes so far.
struct Filling {
    header: Vec<u8>,
    count: u64,
    bytes: Words,
}

/// Bytes kept in 8-byte words, so that numbers of any width can be read in place: a lifted
/// numpy block becomes its columns' buffers without a copy.
pub(crate) struct Words {
    words: Vec<u64>,
    len: usize,
}

impl Words {
    /// Room for `bytes` bytes, in address space only (see [`RESERVE_MAX`]); a refusal
    /// leaves the buffer to grow as it fills.
    fn reserving(bytes: u64) -> Words {
        let mut words = Vec::new();
        let _ = words.try_reserve_exact(bytes.min(RESERVE_MAX).div_ceil(8) as usize);
        Words { words, len: 0 }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Appends `more`, word by word (no zeroing first: only what arrives is written).
    fn extend(&mut self, mut more: &[u8]) {
        let used = self.len % 8;
        if used > 0 {
            let last = self.words.last_mut().expect("a partly filled word");
            let n = more.len().min(8 - used);
            bytemuck::bytes_of_mut(last)[used..used + n].copy_from_slice(&more[..n]);
            self.len += n;
            more = &more[n..];
        }
        let whole = more.chunks_exact(8);
        let tail = whole.remainder();
        self.words
            .extend(whole.map(|w| u64::from_ne_bytes(w.try_into().expect("8 bytes"))));
        if !tail.is_empty() {
            let mut last = [0u8; 8];
            last[..tail.len()].copy_from_slice(tail);
            self.words.push(u64::from_ne_bytes(last));
        }
        self.len += more.len();
    }
}

impl AsRef<[u8]> for Words {
    fn as_ref(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..self.len]
    }
}

/// Splits a pickle, part by part, into a skeleton and its lifted payloads.
pub(crate) struct Lifter {
    /// The smallest payload lifted: [`LIFT`] but in tests.
    lift: u64,
    skeleton: Vec<u8>,
    payloads: Vec<Payload>,
    /// An opcode whose first bytes came at the end of the last part.
    carry: Vec<u8>,
    filling: Option<Filling>,
    /// Bytes of a counted argument still to copy into the skeleton.
    passing: u64,
    /// The rest of the pickle is copied as it is.
    rest: bool,
}

impl Default for Lifter {
    fn default() -> Self {
        Lifter::lifting(LIFT)
    }
}

impl Lifter {
    /// A lifter of payloads from `lift` bytes up.
    pub(crate) fn lifting(lift: u64) -> Self {
        Lifter {
            lift,
            skeleton: Vec::new(),
            payloads: Vec::new(),
            carry: Vec::new(),
            filling: None,
            passing: 0,
            rest: false,
        }
    }

    /// Takes the pickle's next bytes.
    pub(crate) fn push(&mut self, mut input: &[u8]) {
        while !input.is_empty() {
            if self.carry.is_empty() {
                let used = self.consume(input);
                self.carry.extend_from_slice(&input[used..]);
                return;
            }
            let step = input.len().min(CARRY_STEP);
            self.carry.extend_from_slice(&input[..step]);
            input = &input[step..];
            let carry = std::mem::take(&mut self.carry);
            let used = self.consume(&carry);
            self.carry = carry[used..].to_vec();
        }
    }

    /// The skeleton and payloads, once every byte has been pushed. A payload cut short is
    /// put back as it came, for the machine to report where the pickle ends.
    pub(crate) fn finish(mut self) -> Lifted {
        if let Some(cut) = self.filling.take() {
            self.skeleton.extend_from_slice(&cut.header);
            self.skeleton.extend_from_slice(cut.bytes.as_ref());
        }
        self.skeleton.extend_from_slice(&self.carry);
        Lifted {
            skeleton: Bytes::from(self.skeleton),
            payloads: self.payloads,
        }
    }

    /// Reads whole opcodes from `buf`; returns how many bytes it took, all but an opcode
    /// whose end has not arrived.
    fn consume(&mut self, buf: &[u8]) -> usize {
        let mut pos = 0;
        // The start of the bytes read but not yet copied into the skeleton.
        let mut run = 0;
        loop {
            let left = &buf[pos..];
            if let Some(fill) = &mut self.filling {
                let wanted = fill.count - fill.bytes.len() as u64;
                let n = left
                    .len()
                    .min(usize::try_from(wanted).unwrap_or(usize::MAX));
                fill.bytes.extend(&left[..n]);
                pos += n;
                if (fill.bytes.len() as u64) < fill.count {
                    return pos;
                }
                let done = self.filling.take().expect("a payload being lifted");
                self.skeleton.push(done.header[0]);
                self.skeleton
                    .resize(self.skeleton.len() + done.header.len() - 1, 0);
                self.payloads.push(Payload {
                    at: self.skeleton.len(),
                    bytes: Bytes::from_owner(done.bytes),
                });
                run = pos;
                continue;
            }
            if self.passing > 0 {
                let n = left
                    .len()
                    .min(usize::try_from(self.passing).unwrap_or(usize::MAX));
                self.passing -= n as u64;
                pos += n;
                if self.passing > 0 {
                    self.skeleton.extend_from_slice(&buf[run..pos]);
                    return pos;
                }
                continue;
            }
            if self.rest {
                self.skeleton.extend_from_slice(&buf[run..]);
                return buf.len();
            }
            match extent(left, self.lift) {
                Extent::Need => {
                    self.skeleton.extend_from_slice(&buf[run..pos]);
                    return pos;
                }
                Extent::Op(n) => pos += n,
                Extent::Rest => self.rest = true,
                Extent::Counted {
                    header,
                    count,
                    lift: true,
                } => {
                    self.skeleton.extend_from_slice(&buf[run..pos]);
                    self.filling = Some(Filling {
                        header: left[..header].to_vec(),
                        count,
                        bytes: Words::reserving(count),
                    });
                    pos += header;
                }
                Extent::Counted { header, count, .. } => {
                    pos += header;
                    self.passing = count;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A protocol 5 pickle of a list holding a short and two longer bytes payloads, of
    /// `long` and `long + 30` bytes.
    fn sample(long: u32) -> Vec<u8> {
        let mut p = b"\x80\x05\x95\x05\x00\x00\x00\x00\x00\x00\x00](C\x03abc".to_vec();
        p.push(b'B');
        p.extend(long.to_le_bytes());
        p.extend((0..long).map(|i| i as u8));
        p.push(0x96);
        p.extend(u64::from(long + 30).to_le_bytes());
        p.extend((0..long + 30).map(|i| (i * 7) as u8));
        p.extend(b"\x98X\x02\x00\x00\x00\xc3\xa9e.");
        p
    }

    /// The pickle back from its skeleton and payloads.
    fn rebuilt(lifted: &Lifted) -> Vec<u8> {
        let mut out = Vec::new();
        let mut from = 0;
        for p in &lifted.payloads {
            let width = if lifted.skeleton[p.at - 5] == b'B' {
                4
            } else {
                8
            };
            out.extend_from_slice(&lifted.skeleton[from..p.at - width]);
            out.extend_from_slice(&(p.bytes.len() as u64).to_le_bytes()[..width]);
            out.extend_from_slice(&p.bytes);
            from = p.at;
        }
        out.extend_from_slice(&lifted.skeleton[from..]);
        out
    }

    fn lift(parts: &[&[u8]]) -> Lifted {
        lift_from(LIFT, parts)
    }

    fn lift_from(lift: u64, parts: &[&[u8]]) -> Lifted {
        let mut lifter = Lifter::lifting(lift);
        for part in parts {
            lifter.push(part);
        }
        lifter.finish()
    }

    #[test]
    fn payloads_are_lifted_whole_wherever_the_parts_are_cut() {
        // Payloads past LIFT, cut in a few places.
        let p = sample(70_000);
        let whole = lift(&[&p]);
        assert_eq!(whole.payloads.len(), 2);
        assert_eq!(whole.payload_len(), 140_030);
        assert_eq!(rebuilt(&whole), p);
        for cut in [1, 17, 21, 70_021, 70_022, 70_031, p.len() - 3] {
            let two = lift(&[&p[..cut], &p[cut..]]);
            assert_eq!(two.skeleton, whole.skeleton, "cut at {cut}");
            assert_eq!(two.payloads.len(), 2, "cut at {cut}");
        }
        // Short payloads lifted from 16 bytes up, the pickle cut in two at every byte.
        let p = sample(40);
        let whole = lift_from(16, &[&p]);
        assert_eq!(whole.payloads.len(), 2);
        assert_eq!(rebuilt(&whole), p);
        for cut in 0..=p.len() {
            let two = lift_from(16, &[&p[..cut], &p[cut..]]);
            assert_eq!(two.skeleton, whole.skeleton, "cut at {cut}");
            assert_eq!(two.payloads.len(), 2, "cut at {cut}");
            for (a, b) in two.payloads.iter().zip(&whole.payloads) {
                assert_eq!((a.at, &a.bytes), (b.at, &b.bytes), "cut at {cut}");
            }
        }
        let bytewise: Vec<&[u8]> = p.chunks(1).collect();
        assert_eq!(rebuilt(&lift_from(16, &bytewise)), p);
    }

    #[test]
    fn offsets_in_the_skeleton_map_back_to_the_pickle() {
        let p = sample(70_000);
        let lifted = lift(&[&p]);
        let stop = lifted.skeleton.len() - 1;
        assert_eq!(lifted.origin(stop), p.len() - 1);
        assert_eq!(lifted.origin(3), 3);
    }

    #[test]
    fn what_cannot_be_followed_is_kept_as_it_came() {
        // A payload cut short by the end of the object.
        let p = sample(70_000);
        let cut = &p[..p.len() - 50_000];
        let lifted = lift(&[&cut[..100], &cut[100..]]);
        assert_eq!(rebuilt(&lifted), cut);
        // An unknown opcode: the rest is copied, the long payload after it too.
        let mut odd = b"\x80\x05\xff".to_vec();
        odd.extend(&p[2..]);
        let lifted = lift(&[&odd]);
        assert!(lifted.payloads.is_empty());
        assert_eq!(&lifted.skeleton[..], &odd[..]);
        // A declared count far past the object allocates nothing for it.
        let mut huge = b"\x80\x05\x8e".to_vec();
        huge.extend(u64::MAX.to_le_bytes());
        huge.extend(b"abc");
        let lifted = lift(&[&huge]);
        assert!(lifted.payloads.is_empty());
        assert_eq!(&lifted.skeleton[..], &huge[..]);
        // A protocol 0 line longer than MAX_LINE.
        let mut line = b"S'".to_vec();
        line.resize(MAX_LINE + 10, b'a');
        line.extend(b"'\n.");
        let lifted = lift(&[&line[..10], &line[10..]]);
        assert_eq!(&lifted.skeleton[..], &line[..]);
    }
}
