//! The one-pass reader of pickles of builtin values (dicts, lists, tuples, sets, str, bytes,
//! numbers, None): it builds the [`PickleValue`] tree straight from the opcodes, where the
//! general [`machine`](super::machine) builds an object graph first and
//! [`convert`](super::convert) copies it into values. It runs after [`scan`](super::scan)
//! has checked the pickle against the limits, as the general machine does.
//!
//! It reads only what needs no graph. A container is built in place on the stack and moved
//! into the container that takes it; a memo slot remembers where the opcode that made a
//! value starts, and a memo reference (GET) reads that opcode again, so the memo holds no
//! copies. Anything else gives `None`, and the pickle is read by the general machine from the
//! start: a global or a call of any kind, a memo reference or DUP of a container (sharing,
//! which a tree cannot hold and which can make a container contain itself), and every
//! malformed stream, whose error the general machine gives.
//!
//! Besides the scan's, its own guards, checked as it goes, before the allocation they guard:
//! every length against the bytes present ([`leaf`]), the depth limit counted as
//! [`convert`](super::convert) counts it (a leaf is a level, one more than the scan counts),
//! and the memory it has made against what is left of the output budget. Past either limit
//! it stops and gives `None`, and the general path, which refuses the same pickle, names the
//! limit.

use std::num::NonZeroU64;

use super::machine::{Leaf, leaf, text_u32};
use super::{Memo, Opcodes};
use crate::data::PickleValue;

/// The memory one value takes in its container, counted for every value made.
const VALUE: u64 = std::mem::size_of::<PickleValue>() as u64;
/// The memory one memo slot or MARK takes.
const SLOT: u64 = 8;
/// A memo slot's or stack item's origin when the value is a container, which a memo
/// reference may not copy.
const CONTAINER: NonZeroU64 = NonZeroU64::MAX;

/// A value on the stack: its depth as `convert` counts it (a leaf is 1), and where the
/// opcode that made it starts, plus one (or [`CONTAINER`]).
struct Item {
    value: PickleValue,
    depth: u32,
    origin: NonZeroU64,
}

/// The pickle's value, or `None` if the general machine has to read it (see the module's
/// documentation).
pub(crate) fn build(bytes: &[u8], max_depth: u32, max_memory: u64) -> Option<PickleValue> {
    let mut t = Tree {
        bytes,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Memo::default(),
        made: 0,
        max_depth,
        max_memory,
    };
    let mut ops = Opcodes { bytes, pos: 0 };
    loop {
        let at = ops.pos;
        let op = ops.byte()?;
        if let Some(root) = t.step(op, at, &mut ops)? {
            return Some(root);
        }
    }
}

struct Tree<'a> {
    bytes: &'a [u8],
    stack: Vec<Item>,
    /// Where the stack stood at each open MARK.
    marks: Vec<usize>,
    memo: Memo<NonZeroU64>,
    /// Bytes of every value, memo slot and MARK made so far (never lowered).
    made: u64,
    max_depth: u32,
    max_memory: u64,
}

impl Tree<'_> {
    /// Runs opcode `op`, which starts at byte `at`: `Some(Some(root))` at STOP, `None` to
    /// leave the pickle to the general machine.
    fn step(&mut self, op: u8, at: usize, ops: &mut Opcodes<'_>) -> Option<Option<PickleValue>> {
        if let Some(made) = leaf(op, ops) {
            let origin = NonZeroU64::new(at as u64 + 1)?;
            let value = value_of(made.ok()?);
            self.push(value, 1, origin)?;
            return Some(None);
        }
        match op {
            0x80 => drop(ops.take(1)?),
            0x95 => drop(ops.take(8)?),
            b'.' => return Some(Some(self.pop()?.value)),
            b'(' => {
                self.count(SLOT)?;
                self.marks.push(self.stack.len());
            }
            b'0' => {
                if self.above() == 0 && !self.marks.is_empty() {
                    self.pop_mark()?;
                } else {
                    self.pop()?;
                }
            }
            b'1' => self.pop_mark()?,
            b'2' => {
                let top = self.top()?;
                if top.origin == CONTAINER {
                    return None;
                }
                let (value, depth, origin) = (top.value.clone(), top.depth, top.origin);
                self.push(value, depth, origin)?;
            }
            b'p' => self.put(text_u32(ops.line()?).ok()?)?,
            b'q' => self.put(ops.uint(1)? as u32)?,
            b'r' => self.put(ops.uint(4)? as u32)?,
            0x94 => self.put(self.memo.len() as u32)?,
            b'g' => self.get(text_u32(ops.line()?).ok()?)?,
            b'h' => self.get(ops.uint(1)? as u32)?,
            b'j' => self.get(ops.uint(4)? as u32)?,
            // READONLY_BUFFER changes nothing here.
            0x98 => {
                self.top()?;
            }
            b')' => self.container(PickleValue::Tuple(Vec::new()), 1)?,
            b']' => self.container(PickleValue::List(Vec::new()), 1)?,
            b'}' => self.container(PickleValue::Dict(Vec::new()), 1)?,
            0x8f => self.container(PickleValue::Set(Vec::new()), 1)?,
            // TUPLE1, TUPLE2, TUPLE3
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                if self.above() < n {
                    return None;
                }
                let from = self.stack.len() - n;
                let (items, depth) = self.take_values(from)?;
                self.container(PickleValue::Tuple(items), depth)?;
            }
            b't' | b'l' | 0x91 => {
                let from = self.marks.pop()?;
                let (items, depth) = self.take_values(from)?;
                let value = match op {
                    b't' => PickleValue::Tuple(items),
                    b'l' => PickleValue::List(items),
                    _ => PickleValue::FrozenSet(items),
                };
                self.container(value, depth)?;
            }
            b'd' => {
                let from = self.marks.pop()?;
                let depth = self.depth_of(from)?;
                let mut pairs = Vec::new();
                self.take_pairs(from, &mut pairs)?;
                self.container(PickleValue::Dict(pairs), depth)?;
            }
            b'a' => {
                let from = self.stack.len().checked_sub(1)?;
                self.add(from, false)?;
            }
            b's' => {
                let from = self.stack.len().checked_sub(2)?;
                self.add(from, true)?;
            }
            // APPENDS, ADDITEMS; SETITEMS
            b'e' | 0x90 | b'u' => {
                let from = self.marks.pop()?;
                self.add(from, op == b'u')?;
            }
            // Globals, calls, BUILD, NEXT_BUFFER, persistent ids and the extension registry
            // are the general machine's, as is an opcode no one knows.
            _ => return None,
        }
        Some(None)
    }

    /// Adds `bytes` to what was made; `None` past the output budget.
    fn count(&mut self, bytes: u64) -> Option<()> {
        self.made = self.made.saturating_add(bytes);
        (self.made <= self.max_memory).then_some(())
    }

    fn push(&mut self, value: PickleValue, depth: u32, origin: NonZeroU64) -> Option<()> {
        let heap = match &value {
            PickleValue::String(s) => s.len(),
            PickleValue::Bytes(b) => b.len(),
            PickleValue::Int(_) => 16,
            _ => 0,
        };
        self.count(VALUE + heap as u64)?;
        if depth > self.max_depth {
            return None;
        }
        self.stack.push(Item {
            value,
            depth,
            origin,
        });
        Some(())
    }

    fn container(&mut self, value: PickleValue, depth: u32) -> Option<()> {
        self.push(value, depth, CONTAINER)
    }

    /// How many items are above the last MARK.
    fn above(&self) -> usize {
        self.stack.len() - self.marks.last().copied().unwrap_or(0)
    }

    fn top(&self) -> Option<&Item> {
        if self.above() == 0 {
            return None;
        }
        self.stack.last()
    }

    fn pop(&mut self) -> Option<Item> {
        if self.above() == 0 {
            return None;
        }
        self.stack.pop()
    }

    /// Drops the items above the last MARK, and the MARK.
    fn pop_mark(&mut self) -> Option<()> {
        let at = self.marks.pop()?;
        self.stack.truncate(at);
        Some(())
    }

    /// The depth of a container holding the items from `from` up, which must all be above
    /// the last open MARK; they are counted as taking memory again in it.
    fn depth_of(&mut self, from: usize) -> Option<u32> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if from < floor {
            return None;
        }
        let items = &self.stack[from..];
        let (n, depth) = (items.len() as u64, items.iter().map(|i| i.depth + 1).max());
        self.count(VALUE.saturating_mul(n))?;
        let depth = depth.unwrap_or(1);
        (depth <= self.max_depth).then_some(depth)
    }

    /// The values from `from` up, off the stack, and the depth of a container holding them.
    fn take_values(&mut self, from: usize) -> Option<(Vec<PickleValue>, u32)> {
        let depth = self.depth_of(from)?;
        let values = self.stack.drain(from..).map(|i| i.value).collect();
        Some((values, depth))
    }

    /// The keys and values from `from` up, in turn, off the stack and into `pairs`; `None`
    /// if a key is left without its value.
    fn take_pairs(
        &mut self,
        from: usize,
        pairs: &mut Vec<(PickleValue, PickleValue)>,
    ) -> Option<()> {
        let n = self.stack.len() - from;
        if !n.is_multiple_of(2) {
            return None;
        }
        // Amortized: a dict of many SETITEMS batches (1,000 pairs each) grows by doubling.
        pairs.reserve(n / 2);
        let mut items = self.stack.drain(from..).map(|i| i.value);
        while let (Some(k), Some(v)) = (items.next(), items.next()) {
            pairs.push((k, v));
        }
        Some(())
    }

    /// APPEND(S) and ADDITEMS (a list or set), SETITEM(S) (`dict`): the items from `from`
    /// up go into the container just below them, which must be above the last open MARK.
    fn add(&mut self, from: usize, dict: bool) -> Option<()> {
        let depth = self.depth_of(from)?;
        let floor = self.marks.last().copied().unwrap_or(0);
        let target = from.checked_sub(1).filter(|t| *t >= floor)?;
        let item = &mut self.stack[target];
        let fits = match &item.value {
            PickleValue::Dict(_) => dict,
            PickleValue::List(_) | PickleValue::Set(_) | PickleValue::FrozenSet(_) => !dict,
            _ => false,
        };
        if !fits || item.origin != CONTAINER {
            return None;
        }
        item.depth = item.depth.max(depth);
        let mut value = std::mem::replace(&mut item.value, PickleValue::None);
        match &mut value {
            PickleValue::Dict(pairs) => self.take_pairs(from, pairs)?,
            PickleValue::List(items) | PickleValue::Set(items) | PickleValue::FrozenSet(items) => {
                items.extend(self.stack.drain(from..).map(|i| i.value));
            }
            _ => return None,
        }
        self.stack[target].value = value;
        Some(())
    }

    /// Remembers where the value on top was made, in memo slot `id`.
    fn put(&mut self, id: u32) -> Option<()> {
        let origin = self.top()?.origin;
        self.count(SLOT)?;
        self.memo.insert(id, origin);
        Some(())
    }

    /// Makes the value memo slot `id` names again, from its opcode; a container is the
    /// general machine's.
    fn get(&mut self, id: u32) -> Option<()> {
        let origin = *self.memo.get(id)?;
        if origin == CONTAINER {
            return None;
        }
        let mut ops = Opcodes {
            bytes: self.bytes,
            pos: (origin.get() - 1) as usize,
        };
        let op = ops.byte()?;
        let value = value_of(leaf(op, &mut ops)?.ok()?);
        self.push(value, 1, origin)
    }
}

/// A leaf as a value.
fn value_of(made: Leaf<'_>) -> PickleValue {
    match made {
        Leaf::None => PickleValue::None,
        Leaf::Bool(b) => PickleValue::Bool(b),
        Leaf::Int(i) => PickleValue::I64(i),
        Leaf::Big(b) => PickleValue::Int(b),
        Leaf::Float(f) => PickleValue::F64(f),
        Leaf::Str(text) => PickleValue::String(text.to_owned()),
        Leaf::Text(text) => PickleValue::String(text),
        Leaf::Bytes(raw) => PickleValue::Bytes(raw.to_vec()),
        Leaf::OwnedBytes(raw) => PickleValue::Bytes(raw),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::format::pickle::{convert, machine};
    use crate::settings::ReadSettings;

    fn tree(p: &[u8]) -> Option<PickleValue> {
        build(p, 100, 1 << 30)
    }

    /// What the general machine reads.
    fn general(p: &[u8]) -> PickleValue {
        let graph = machine::run(&Bytes::copy_from_slice(p)).unwrap();
        match convert::read(&graph, &ReadSettings::default()).unwrap() {
            convert::Decoded::Value(v) => v,
            convert::Decoded::Frame(_) => panic!("a value"),
        }
    }

    #[test]
    fn builtins_read_as_the_general_machine_reads_them() {
        for p in [
            // pickle.dumps({"a": [1, 2.5, "x"], "b": (None, True), "c": {1, 2}}), protocol 0
            // (its set is a REDUCE: the general machine's) and 4.
            &b"(dp0\nVa\np1\n(lp2\nI1\naF2.5\naVx\np3\nasVb\np4\n(NI01\ntp5\nsVc\np6\nc__builtin__\nset\np7\n((lp8\nI1\naI2\natp9\nRp10\ns."[..],
            b"\x80\x04\x950\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00\x8c\x01x\x94e\x8c\x01b\x94N\x88\x86\x94\x8c\x01c\x94\x8f\x94(K\x01K\x02\x90u.",
            // Protocol 2: a list of two dicts sharing their keys through the memo, a frozenset
            // and bytes.
            b"\x80\x02]q\x00(}q\x01(X\x01\x00\x00\x00kq\x02K\x01X\x01\x00\x00\x00sq\x03U\x02hiq\x04u}q\x05(h\x02J\xff\xff\xff\xffh\x03h\x04u(K\x01K\x02\x91C\x03\x00\x01\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01e.",
            // Protocol 0 text with escapes, a long int, and a memoized str read back.
            b"(lp0\nVcaf\\u00e9\np1\naL12345678901234567890L\nag1\naS'a\\nb'\na.",
        ] {
            let general = general(p);
            match tree(p) {
                Some(value) => assert_eq!(value, general, "{p:?}"),
                None => assert!(p.contains(&b'R'), "{p:?} left to the general machine"),
            }
        }
    }

    #[test]
    fn sharing_globals_and_bad_streams_are_left_to_the_general_machine() {
        // A list inside itself; a list shared by DUP; a memo reference to a list.
        assert_eq!(tree(b"\x80\x02]q\x00h\x00a."), None);
        assert_eq!(tree(b"\x80\x02]2a."), None);
        assert_eq!(tree(b"\x80\x02]q\x00(h\x00h\x00l."), None);
        // A global, a call, NEXT_BUFFER.
        assert_eq!(tree(b"cos\nsystem\n(S'echo'\ntR."), None);
        assert_eq!(tree(b"\x80\x05\x97."), None);
        // Truncated, underflowing, a key without its value, a memo slot never written.
        assert_eq!(tree(b"\x80\x02X\xff\xff\xff\xff"), None);
        assert_eq!(tree(b"\x80\x02]a."), None);
        assert_eq!(tree(b"\x80\x02(K\x01d."), None);
        assert_eq!(tree(b"\x80\x02h\x05."), None);
        // APPEND may not reach below the last MARK.
        assert_eq!(tree(b"\x80\x02](K\x01a1."), None);
    }

    #[test]
    fn depth_and_memory_are_bounded_as_it_goes() {
        // Lists nested 99 deep around an int: 100 levels, as convert counts them.
        let nested = |n: usize| {
            let mut p = b"\x80\x02".to_vec();
            p.extend(std::iter::repeat_n(b']', n));
            p.extend(b"K\x01");
            p.extend(std::iter::repeat_n(b'a', n));
            p.push(b'.');
            p
        };
        assert!(tree(&nested(99)).is_some());
        assert_eq!(tree(&nested(100)), None);
        let long = b"\x80\x04\x8c\x10aaaaaaaaaaaaaaaa\x94h\x00h\x00\x87.";
        assert!(build(long, 100, 1 << 20).is_some());
        assert_eq!(build(long, 100, 200), None);
    }
}
