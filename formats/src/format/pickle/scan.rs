//! Bounds a pickle before serde-pickle sees it: how deep its values nest, and how much memory
//! decoding them takes, found by running the opcodes on an abstract machine that keeps no
//! values, only their shapes.
//!
//! Why: serde-pickle recurses once per nesting level while converting its values (and Rust
//! recurses again to drop them), so a deep enough pickle overflows any stack and aborts the
//! process. And a pickle is a program: a few bytes can ask for exponential output (a list
//! holding a memo reference to a list twice, a hundred times over), or for serde-pickle's
//! 128-slot buffer behind every MARK, a million times over.
//!
//! The machine mirrors serde-pickle's own (`de.rs` of serde-pickle 1.2): a stack of items
//! split at MARKs, and a memo of slots by id. A container is a node in a graph; adding an
//! item to a container adds an edge; a memo reference (GET) stays a reference by id to the
//! end, as in serde-pickle, where it resolves to whatever the memo holds when the stream
//! stops. So a container nested before it is filled, or filled through a memo reference
//! after it was appended elsewhere, deepens every container that holds it. Once the stream
//! stops, one pass over the graph gives every node's depth and the size of its value with
//! every reference unfolded into a copy, as serde-pickle builds it.
//!
//! Where serde-pickle copies (DUP, PUT of a reference, the argument of REDUCE), the machine
//! shares instead: a shared node holds everything each copy would, so depths and sizes are
//! upper bounds. A container that ends up inside itself is refused: serde-pickle cannot
//! represent it either.

use super::{Memo, Opcodes};
use crate::error::{Error, ErrorKind, Result};
use crate::limits::exceeded;

/// The size of one of serde-pickle's intermediate values.
const VALUE: u64 = 32;
/// The size of one `serde_pickle::Value` in the output, with its share of a map's overhead.
const OUT_VALUE: u64 = 48;
/// What serde-pickle allocates at every MARK (`Vec::with_capacity(128)`); LIST, TUPLE and
/// FROZENSET keep that buffer in the container they build.
const MARK_BUFFER: u64 = 128 * VALUE;

/// What a pickle may cost to decode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// The deepest nesting of containers allowed.
    pub(crate) max_depth: u32,
    /// The most memory serde-pickle may use, in bytes, as estimated here: what is left of
    /// the call's output budget.
    pub(crate) max_memory: u64,
}

/// An item on the stack.
#[derive(Debug, Clone, Copy)]
enum Item {
    /// A number, string, bytes, None, bool or global, with the bytes its value takes.
    Scalar(u64),
    /// A container.
    Node(u32),
    /// A memo reference, resolved by id when the stream stops.
    Ref(u32),
}

/// What a memo slot holds.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Scalar(u64),
    Node(u32),
}

/// A container: what it holds besides scalars, and the output bytes of itself and its
/// scalars.
#[derive(Debug, Default)]
struct Node {
    children: Vec<Item>,
    own: u64,
}

/// Checks that the pickle's values nest at most `bounds.max_depth` levels and take at most
/// `bounds.max_memory` bytes to decode. Streams serde-pickle could not decode give an
/// [`ErrorKind::Decode`] error naming the byte where they go wrong. Returns the memory the
/// decoded values take, as estimated.
#[cfg(test)]
pub(crate) fn check(bytes: &[u8], bounds: Bounds) -> Result<u64> {
    check_at(bytes, bounds, |at| at)
}

/// [`check`], naming the byte where the stream goes wrong by `origin(offset)`: where it lay
/// in the pickle as sent, when `bytes` is a [`Lifted`](super::parts::Lifted) skeleton.
pub(crate) fn check_at(
    bytes: &[u8],
    bounds: Bounds,
    origin: impl Fn(usize) -> usize,
) -> Result<u64> {
    let mut machine = Machine::default();
    let mut ops = Opcodes { bytes, pos: 0 };
    let root = loop {
        let at = ops.pos;
        let Some(op) = ops.byte() else {
            return Err(malformed(
                "the pickle ends before its STOP opcode",
                origin(at),
            ));
        };
        match machine.step(op, &mut ops) {
            Ok(Some(root)) => break root,
            Ok(None) => {}
            Err(why) => return Err(malformed(&why, origin(at))),
        }
    };
    machine.bound(root, bounds)
}

fn malformed(why: &str, at: usize) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!("not a valid pickle of builtin values: {why} (opcode at byte {at})"),
    )
}

#[derive(Default)]
struct Machine {
    nodes: Vec<Node>,
    /// One stack for every open MARK: where each starts is in `marks`.
    stack: Vec<Item>,
    /// Where the stack stood at each open MARK.
    marks: Vec<usize>,
    memo: Memo<Slot>,
    /// Bytes serde-pickle holds while parsing (never lowered but for freed MARK buffers),
    /// and the most it held.
    live: u64,
    peak: u64,
    /// Items serde-pickle copies while parsing; their sizes count once the graph is known.
    copies: Vec<Item>,
}

type Step = std::result::Result<Option<Item>, String>;

impl Machine {
    /// Runs one opcode; the root item when it is STOP.
    fn step(&mut self, op: u8, ops: &mut Opcodes<'_>) -> Step {
        let eof = || "the pickle ends inside an opcode's argument".to_owned();
        match op {
            0x80 => drop(ops.take(1).ok_or_else(eof)?), // PROTO
            0x95 => drop(ops.take(8).ok_or_else(eof)?), // FRAME
            b'.' => return self.pop().map(Some),
            b'(' => {
                self.marks.push(self.stack.len());
                self.alloc(MARK_BUFFER);
            }
            b'0' => {
                if self.above() == 0 {
                    let from = self.pop_mark(false)?;
                    self.stack.truncate(from);
                } else {
                    self.pop()?;
                }
            }
            b'1' => {
                let from = self.pop_mark(false)?;
                self.stack.truncate(from);
            }
            b'2' => {
                // DUP copies the top (a reference stays a reference).
                let top = *self.top().ok_or("DUP on an empty stack")?;
                self.copies.push(top);
                self.push(top);
            }
            // PUT, BINPUT, LONG_BINPUT, MEMOIZE
            b'p' => {
                let id = memo_id(ops.line().ok_or_else(eof)?)?;
                self.memoize(id)?;
            }
            b'q' => self.memoize(ops.uint(1).ok_or_else(eof)? as u32)?,
            b'r' => self.memoize(ops.uint(4).ok_or_else(eof)? as u32)?,
            0x94 => self.memoize(self.memo.len() as u32)?,
            // GET, BINGET, LONG_BINGET
            b'g' => {
                let id = memo_id(ops.line().ok_or_else(eof)?)?;
                self.get(id)?;
            }
            b'h' => self.get(ops.uint(1).ok_or_else(eof)? as u32)?,
            b'j' => self.get(ops.uint(4).ok_or_else(eof)? as u32)?,
            // NONE, NEWTRUE, NEWFALSE
            b'N' | 0x88 | 0x89 => self.scalar(0),
            // INT, LONG, FLOAT, STRING, UNICODE: text up to a newline.
            b'I' | b'L' | b'F' | b'S' | b'V' => {
                let line = ops.line().ok_or_else(eof)?;
                self.scalar(line.len() as u64);
            }
            b'K' => self.fixed(ops, 1)?,
            b'M' => self.fixed(ops, 2)?,
            b'J' => self.fixed(ops, 4)?,
            b'G' => self.fixed(ops, 8)?,
            // LONG1, SHORT_BINBYTES, SHORT_BINSTRING, SHORT_BINUNICODE
            0x8a | b'C' | b'U' | 0x8c => self.counted(ops, 1)?,
            // LONG4, BINBYTES, BINSTRING, BINUNICODE
            0x8b | b'B' | b'T' | b'X' => self.counted(ops, 4)?,
            // BINBYTES8, BINUNICODE8, BYTEARRAY8
            0x8e | 0x8d | 0x96 => self.counted(ops, 8)?,
            // EMPTY_TUPLE, EMPTY_LIST, EMPTY_DICT, EMPTY_SET
            b')' | b']' | b'}' | 0x8f => {
                let from = self.stack.len();
                let node = self.node(from, 0);
                self.push(node);
            }
            // TUPLE1, TUPLE2, TUPLE3
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                if self.above() < n {
                    return Err("stack underflow".into());
                }
                let node = self.node(self.stack.len() - n, 0);
                self.push(node);
            }
            // TUPLE, LIST, FROZENSET keep serde-pickle's MARK buffer; DICT copies out of it.
            b't' | b'l' | 0x91 | b'd' => {
                let keeps_buffer = op != b'd';
                let from = self.pop_mark(keeps_buffer)?;
                let node = self.node(from, if keeps_buffer { MARK_BUFFER } else { 0 });
                self.push(node);
            }
            // APPEND, SETITEM: one item or two, above the container.
            b'a' | b's' => {
                let n = if op == b'a' { 1 } else { 2 };
                if self.above() < n {
                    return Err("stack underflow".into());
                }
                self.extend_top(self.stack.len() - n)?;
            }
            // APPENDS, SETITEMS, ADDITEMS
            b'e' | b'u' | 0x90 => {
                let from = self.pop_mark(false)?;
                self.extend_top(from)?;
            }
            b'c' => {
                ops.line().ok_or_else(eof)?;
                ops.line().ok_or_else(eof)?;
                self.scalar(0);
            }
            0x93 => {
                // STACK_GLOBAL resolves its two strings.
                for _ in 0..2 {
                    let item = self.pop()?;
                    self.copies.push(item);
                }
                self.scalar(0);
            }
            b'R' => {
                // REDUCE of the builtins refused_global lets through: the result is made of
                // its argument tuple (set(list), list(list), ...), copied; keep the tuple.
                let args = self.pop()?;
                let global = self.pop()?;
                self.copies.extend([args, global]);
                self.push(args);
            }
            b'b' => {
                // BUILD replaces the object by its state.
                let state = self.pop()?;
                self.pop()?;
                self.push(state);
            }
            // INST and OBJ drop their arguments; they, NEWOBJ and NEWOBJ_EX leave an empty dict.
            b'i' | b'o' | 0x81 | 0x92 => {
                if op == b'i' {
                    ops.line().ok_or_else(eof)?;
                    ops.line().ok_or_else(eof)?;
                }
                if matches!(op, b'i' | b'o') {
                    let from = self.pop_mark(false)?;
                    self.stack.truncate(from);
                }
                let pops = match op {
                    b'o' => 1,
                    0x81 => 2,
                    0x92 => 3,
                    _ => 0,
                };
                for _ in 0..pops {
                    self.pop()?;
                }
                let from = self.stack.len();
                let node = self.node(from, 0);
                self.push(node);
            }
            // NEXT_BUFFER: the machine refuses it (no out-of-band buffers); READONLY_BUFFER
            // changes nothing here.
            0x97 => self.scalar(0),
            0x98 => {}
            other => return Err(format!("unsupported opcode 0x{other:02x}")),
        }
        Ok(None)
    }

    fn alloc(&mut self, bytes: u64) {
        self.live = self.live.saturating_add(bytes);
        self.peak = self.peak.max(self.live);
    }

    fn push(&mut self, item: Item) {
        self.alloc(VALUE);
        self.stack.push(item);
    }

    /// How many items are above the last MARK: all the machine can pop.
    fn above(&self) -> usize {
        self.stack.len() - self.marks.last().copied().unwrap_or(0)
    }

    fn top(&self) -> Option<&Item> {
        self.stack.last().filter(|_| self.above() > 0)
    }

    fn pop(&mut self) -> std::result::Result<Item, String> {
        if self.above() == 0 {
            return Err("stack underflow".to_owned());
        }
        self.stack.pop().ok_or_else(|| "stack underflow".to_owned())
    }

    /// Closes the last MARK: where the items above it start, for the caller to take off the
    /// stack. Their buffer is freed unless `keeps_buffer`.
    fn pop_mark(&mut self, keeps_buffer: bool) -> std::result::Result<usize, String> {
        let from = self.marks.pop().ok_or("no MARK to pop to")?;
        if !keeps_buffer {
            self.live = self.live.saturating_sub(MARK_BUFFER);
        }
        Ok(from)
    }

    /// A scalar whose value holds `payload` bytes.
    fn scalar(&mut self, payload: u64) {
        self.alloc(payload);
        self.push(Item::Scalar(OUT_VALUE.saturating_add(payload)));
    }

    fn fixed(&mut self, ops: &mut Opcodes<'_>, n: usize) -> std::result::Result<(), String> {
        ops.take(n).ok_or("the pickle ends inside a number")?;
        self.scalar(0);
        Ok(())
    }

    fn counted(&mut self, ops: &mut Opcodes<'_>, n: usize) -> std::result::Result<(), String> {
        let payload = ops
            .counted(n)
            .ok_or("the pickle ends inside a string, bytes or long")?;
        self.scalar(payload.len() as u64);
        Ok(())
    }

    /// A new container holding the items from `from` up, taken off the stack, with `buffer`
    /// bytes kept beyond them.
    fn node(&mut self, from: usize, buffer: u64) -> Item {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node::default());
        self.alloc(buffer);
        self.add(id, from);
        Item::Node(id)
    }

    /// Adds the items from `from` up, taken off the stack, to container `id`.
    fn add(&mut self, id: u32, from: usize) {
        let n = self.stack.len() - from;
        self.alloc(VALUE.saturating_mul(n as u64));
        let node = &mut self.nodes[id as usize];
        node.own = node.own.saturating_add(OUT_VALUE);
        node.children.reserve(n);
        for item in self.stack.drain(from..) {
            match item {
                Item::Scalar(bytes) => node.own = node.own.saturating_add(bytes),
                other => node.children.push(other),
            }
        }
    }

    /// Adds the items from `from` up, taken off the stack, to the container just below them
    /// (above the last open MARK), or the one its reference names.
    fn extend_top(&mut self, from: usize) -> std::result::Result<(), String> {
        let floor = self.marks.last().copied().unwrap_or(0);
        let below = from.checked_sub(1).filter(|at| *at >= floor);
        let id = match below.map(|at| &self.stack[at]) {
            Some(Item::Node(id)) => *id,
            Some(Item::Ref(memo)) => match self.memo.get(*memo) {
                Some(Slot::Node(id)) => *id,
                _ => return Err("the stack top is not a container".into()),
            },
            Some(Item::Scalar(_)) => return Err("the stack top is not a container".into()),
            None => return Err("stack underflow".into()),
        };
        self.add(id, from);
        Ok(())
    }

    /// Moves the top into memo slot `id` and leaves a reference to it.
    fn memoize(&mut self, id: u32) -> std::result::Result<(), String> {
        let item = self.pop()?;
        let slot = match item {
            Item::Scalar(bytes) => Slot::Scalar(bytes),
            Item::Node(node) => Slot::Node(node),
            Item::Ref(other) => {
                // serde-pickle copies the value the reference names.
                self.copies.push(item);
                *self.memo.get(other).ok_or("a memo reference to nothing")?
            }
        };
        self.memo.insert(id, slot);
        self.push(Item::Ref(id));
        Ok(())
    }

    fn get(&mut self, id: u32) -> std::result::Result<(), String> {
        if self.memo.get(id).is_none() {
            return Err(format!("memo entry {id} is read before it is written"));
        }
        self.push(Item::Ref(id));
        Ok(())
    }

    /// What an item stands for once references are resolved.
    fn resolve(&self, item: Item) -> Slot {
        match item {
            Item::Scalar(bytes) => Slot::Scalar(bytes),
            Item::Node(id) => Slot::Node(id),
            // Every GET was checked, and slots are never removed.
            Item::Ref(memo) => self.memo.get(memo).copied().unwrap_or(Slot::Scalar(0)),
        }
    }

    /// Depth and unfolded size of every container, then the checks against `bounds`.
    fn bound(self, root: Item, bounds: Bounds) -> Result<u64> {
        const NEW: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let n = self.nodes.len();
        let mut state = vec![NEW; n];
        let mut depth = vec![0u32; n];
        let mut size = vec![0u64; n];
        let mut path: Vec<(u32, usize)> = Vec::new();
        for start in 0..n as u32 {
            if state[start as usize] != NEW {
                continue;
            }
            state[start as usize] = OPEN;
            path.push((start, 0));
            while let Some(&mut (id, ref mut next)) = path.last_mut() {
                let node = &self.nodes[id as usize];
                if let Some(&child) = node.children.get(*next) {
                    *next += 1;
                    if let Slot::Node(child) = self.resolve(child) {
                        match state[child as usize] {
                            NEW => {
                                state[child as usize] = OPEN;
                                path.push((child, 0));
                            }
                            OPEN => {
                                return Err(Error::new(
                                    ErrorKind::Unsupported,
                                    "the pickle holds a recursive structure (a container \
                                     inside itself), which s3io cannot represent",
                                ));
                            }
                            _ => {}
                        }
                    }
                    continue;
                }
                // Every child is done: this node's depth and size follow from theirs.
                let (mut deepest, mut bytes) = (0u32, node.own);
                for &child in &node.children {
                    match self.resolve(child) {
                        Slot::Scalar(b) => bytes = bytes.saturating_add(b),
                        Slot::Node(c) => {
                            deepest = deepest.max(depth[c as usize]);
                            bytes = bytes.saturating_add(size[c as usize]);
                        }
                    }
                }
                let d = deepest + 1;
                if d > bounds.max_depth {
                    return Err(exceeded(
                        "max_pickle_depth",
                        format!(
                            "the pickle nests lists, tuples, dicts or sets more than {} levels \
                             deep",
                            bounds.max_depth
                        ),
                    ));
                }
                depth[id as usize] = d;
                size[id as usize] = bytes;
                state[id as usize] = DONE;
                path.pop();
            }
        }
        let size_of = |item: Item| match self.resolve(item) {
            Slot::Scalar(bytes) => bytes,
            Slot::Node(id) => size[id as usize],
        };
        let copies = self
            .copies
            .iter()
            .fold(0u64, |sum, &item| sum.saturating_add(size_of(item)));
        let memory = self
            .peak
            .saturating_add(copies)
            .saturating_add(size_of(root));
        if memory > bounds.max_memory {
            return Err(exceeded(
                "max_decoded_size",
                format!(
                    "decoding the pickle would take about {memory} bytes of memory (its memo \
                     references unfolded into copies), more than the {} bytes left of this \
                     call's output budget",
                    bounds.max_memory
                ),
            ));
        }
        Ok(memory)
    }
}

/// A memo id written as text (PUT, GET), as serde-pickle reads it.
fn memo_id(line: &[u8]) -> std::result::Result<u32, String> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "a memo id that is not a number".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds {
        max_depth: 100,
        max_memory: 1 << 30,
    };

    fn kind(bytes: &[u8]) -> Option<ErrorKind> {
        check(bytes, BOUNDS).err().map(|e| e.kind())
    }

    fn put(id: u32) -> Vec<u8> {
        let mut op = vec![b'r'];
        op.extend(id.to_le_bytes());
        op
    }

    fn get(id: u32) -> Vec<u8> {
        let mut op = vec![b'j'];
        op.extend(id.to_le_bytes());
        op
    }

    /// `n` lists nested by the stack: `[[[...]]]`.
    fn nested(n: usize) -> Vec<u8> {
        let mut p = b"\x80\x02".to_vec();
        p.extend(std::iter::repeat_n(b']', n));
        p.extend(std::iter::repeat_n(b'a', n - 1));
        p.push(b'.');
        p
    }

    /// `n` empty lists in the memo, then list i+1 appended into list i through memo
    /// references, so the stack never holds more than two items: each list is nested before
    /// it is filled, and the first one deepens long after it was filled.
    fn chained(n: u32, descending: bool) -> Vec<u8> {
        let mut p = b"\x80\x02".to_vec();
        for i in 0..n {
            p.push(b']');
            p.extend(put(i));
            p.push(b'0');
        }
        let mut links: Vec<u32> = (0..n - 1).collect();
        if descending {
            links.reverse();
        }
        for i in links {
            p.extend(get(i));
            p.extend(get(i + 1));
            p.extend(b"a0");
        }
        p.extend(get(0));
        p.push(b'.');
        p
    }

    #[test]
    fn depth_by_the_stack_is_bounded_exactly() {
        assert_eq!(kind(&nested(100)), None);
        assert_eq!(kind(&nested(101)), Some(ErrorKind::LimitExceeded));
    }

    #[test]
    fn depth_through_memo_references_counts_in_either_order() {
        for descending in [false, true] {
            assert_eq!(kind(&chained(100, descending)), None, "{descending}");
            let err = check(&chained(101, descending), BOUNDS).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
            assert!(err.message().contains("more than 100 levels"), "{err}");
            assert!(err.message().contains("max_pickle_depth"), "{err}");
        }
    }

    #[test]
    fn deep_values_left_off_the_result_count_too() {
        // serde-pickle drops them by recursion as well.
        let mut p = chained(101, false);
        p.pop();
        p.extend(b"0N.");
        assert_eq!(kind(&p), Some(ErrorKind::LimitExceeded));
    }

    #[test]
    fn a_memo_slot_written_again_changes_what_earlier_references_mean() {
        // L0 holds a reference to slot 1, which first holds an empty list, then a deep one.
        let mut p = b"\x80\x02]".to_vec();
        p.extend(put(0));
        p.push(b']');
        p.extend(put(1));
        p.extend(b"a0");
        p.extend(nested(150)[2..nested(150).len() - 1].iter());
        p.extend(put(1));
        p.extend(b"0");
        p.extend(get(0));
        p.push(b'.');
        assert_eq!(kind(&p), Some(ErrorKind::LimitExceeded));
    }

    #[test]
    fn exponential_sharing_is_a_memory_bomb() {
        // L_i = [L_{i-1}, L_{i-1}]: 2^64 lists unfolded, from 20 bytes a level.
        let mut p = b"\x80\x02]".to_vec();
        p.extend(put(0));
        for i in 1..64 {
            p.push(b'(');
            p.extend(get(i - 1));
            p.extend(get(i - 1));
            p.push(b'l');
            p.extend(put(i));
            p.push(b'0');
        }
        p.extend(get(63));
        p.push(b'.');
        let err = check(&p, BOUNDS).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
        assert!(err.message().contains("max_decoded_size"), "{err}");
        // A few levels of the same are fine.
        let mut small = p[..2 + 1 + 5 + 8 * 18].to_vec();
        small.extend(get(8));
        small.push(b'.');
        assert_eq!(kind(&small), None);
    }

    #[test]
    fn marks_and_copies_count_as_memory() {
        let mut marks = vec![b'('; 300_000];
        marks.extend(b"N.");
        assert_eq!(kind(&marks), Some(ErrorKind::LimitExceeded));
        // DUP then POP of a big list, over and over: serde-pickle copies it each time.
        let mut dups = b"\x80\x02](".to_vec();
        dups.extend(std::iter::repeat_n(b"K\x01", 100_000).flatten());
        dups.push(b'e');
        dups.extend(std::iter::repeat_n(b"20", 100_000).flatten());
        dups.push(b'.');
        assert_eq!(kind(&dups), Some(ErrorKind::LimitExceeded));
    }

    #[test]
    fn containers_inside_themselves_are_refused() {
        let p = b"\x80\x02]q\x00h\x00a.";
        assert_eq!(kind(p), Some(ErrorKind::Unsupported));
        assert_eq!(kind(b"\x80\x02]2a."), Some(ErrorKind::Unsupported));
    }

    #[test]
    fn malformed_streams_name_the_byte() {
        let err = check(b"\x80\x02]a.", BOUNDS).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert!(err.message().contains("byte 3"), "{err}");
        assert_eq!(kind(b"\x80\x02h\x05."), Some(ErrorKind::Decode));
        assert_eq!(kind(b"\x80\x02X\xff\xff\xff\xff"), Some(ErrorKind::Decode));
        assert_eq!(kind(b"\x80\x02]"), Some(ErrorKind::Decode));
        assert_eq!(kind(b"\x99."), Some(ErrorKind::Decode));
    }

    #[test]
    fn python_pickles_pass() {
        // pickle.dumps({"a": [1, 2.5, "x"], "b": (None, True), "c": {1, 2}}, protocol=p)
        for p in [
            &b"(dp0\nVa\np1\n(lp2\nI1\naF2.5\naVx\np3\nasVb\np4\n(NI01\ntp5\nsVc\np6\nc__builtin__\nset\np7\n((lp8\nI1\naI2\natp9\nRp10\ns."[..],
            b"\x80\x04\x950\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00\x8c\x01x\x94e\x8c\x01b\x94N\x88\x86\x94\x8c\x01c\x94\x8f\x94(K\x01K\x02\x90u.",
        ] {
            check(p, BOUNDS).unwrap();
            let value = serde_pickle::value_from_slice(p, Default::default()).unwrap();
            assert!(value.to_string().contains("2.5"));
        }
    }
}
