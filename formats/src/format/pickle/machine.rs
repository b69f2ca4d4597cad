//! s3io's own pickle machine: follows the opcode stream of protocols 0 to 5 and builds a
//! graph of Python objects, without importing or calling anything.
//!
//! Globals are looked up in [`allowed`], an allow-list by module and attribute; any other is
//! refused with an error naming it. A call (REDUCE, NEWOBJ, OBJ, INST) to an allowed global
//! is not made: it is recorded as an [`Node::Object`] holding the global, its arguments and
//! (after BUILD) its state, for `convert.rs` to interpret. Only a few builtins are evaluated
//! here, the ones that just build values (`set(...)`, `bytearray(...)`, `_codecs.encode`,
//! `getattr(ZoneInfo, "_unpickle")`).
//!
//! Containers live in an arena and are referred to by id, so memo references share them as
//! Python does and no reference cycle can leak; a container that ends up inside itself is
//! refused when the graph is read (`convert.rs`). `scan.rs` bounds depth and memory before
//! this machine runs.

use std::rc::Rc;

use bytes::Bytes;
use num_bigint::BigInt;

use super::parts::Lifted;
use super::{Memo, Opcodes};
use crate::error::{Error, ErrorKind, Result};

/// An allowed global, by its canonical name (`DataFrame`, `np.dtype`, `datetime.date`, ...).
pub(crate) type Global = &'static str;

/// A value on the machine's stack or in its memo.
#[derive(Debug, Clone)]
pub(crate) enum V {
    None,
    Bool(bool),
    Int(i64),
    Big(Rc<BigInt>),
    Float(f64),
    Str(Rc<str>),
    /// bytes, bytearray, and protocol 5's in-band buffers; a slice of the pickle itself.
    Bytes(Bytes),
    /// A bytes payload lifted out of the pickle as it arrived ([`Graph::held`]).
    Held(u32),
    Tuple(Rc<[V]>),
    /// A container or object in the arena.
    Node(u32),
    Global(Global),
}

/// A mutable container or a recorded call.
#[derive(Debug)]
pub(crate) enum Node {
    List(Vec<V>),
    Dict(Vec<(V, V)>),
    Set {
        items: Vec<V>,
        frozen: bool,
    },
    /// `class(*args)`, never made, then BUILD's state and any items SETITEMS added.
    Object {
        class: Global,
        args: V,
        state: Option<V>,
        items: Vec<(V, V)>,
    },
}

/// What the stream built.
pub(crate) struct Graph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: V,
    /// The payloads [`V::Held`] names, each until [`Graph::release`] lets it go.
    pub(crate) held: Vec<std::cell::Cell<Option<Bytes>>>,
}

impl Graph {
    /// Held payload `id`, unless it was let go.
    pub(crate) fn held(&self, id: u32) -> Option<Bytes> {
        let cell = self.held.get(id as usize)?;
        let bytes = cell.take();
        cell.set(bytes.clone());
        bytes
    }

    /// Lets held payload `id` go: nothing will read it again.
    pub(crate) fn release(&self, id: u32) {
        if let Some(cell) = self.held.get(id as usize) {
            cell.set(None);
        }
    }
}

/// The canonical name of an allowed global, or `None`.
pub(crate) fn allowed(module: &str, name: &str) -> Option<Global> {
    let builtin = matches!(module, "builtins" | "__builtin__");
    Some(match (module, name) {
        (_, "set") if builtin => "set",
        (_, "frozenset") if builtin => "frozenset",
        (_, "list") if builtin => "list",
        (_, "bytearray") if builtin => "bytearray",
        (_, "bytes") if builtin => "bytes",
        (_, "int") if builtin => "int",
        (_, "slice") if builtin => "slice",
        (_, "getattr") if builtin => "getattr",
        (_, "object") if builtin => "object",
        ("_codecs", "encode") => "codecs.encode",
        ("copyreg" | "copy_reg", "_reconstructor") => "reconstructor",
        ("datetime", "datetime") => "datetime.datetime",
        ("datetime", "date") => "datetime.date",
        ("datetime", "time") => "datetime.time",
        ("datetime", "timedelta") => "datetime.timedelta",
        ("datetime", "timezone") => "datetime.timezone",
        ("decimal" | "_decimal" | "_pydecimal", "Decimal") => "Decimal",
        ("collections", "OrderedDict") => "OrderedDict",
        ("zoneinfo" | "zoneinfo._zoneinfo", "ZoneInfo") => "ZoneInfo",
        ("zoneinfo" | "zoneinfo._zoneinfo", "ZoneInfo._unpickle") => "ZoneInfo._unpickle",
        ("pytz", "_UTC") => "pytz._UTC",
        ("pytz", "_p") | ("pytz.tzinfo", "unpickler") => "pytz._p",
        ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => "np._reconstruct",
        ("numpy.core.multiarray" | "numpy._core.multiarray", "scalar") => "np.scalar",
        ("numpy.core.numeric" | "numpy._core.numeric", "_frombuffer") => "np._frombuffer",
        ("numpy", "ndarray") => "np.ndarray",
        ("numpy", "dtype") => "np.dtype",
        ("pyarrow.lib", "_restore_array") => "pa._restore_array",
        ("pyarrow.lib", "type_for_alias") => "pa.type_for_alias",
        ("pyarrow.lib", "py_buffer") => "pa.py_buffer",
        (m, n) if m == "pandas" || m.starts_with("pandas.") => pandas_global(n)?,
        _ => return None,
    })
}

/// The pandas names s3io reads, whichever module pandas' version put them in.
fn pandas_global(name: &str) -> Option<Global> {
    const NAMES: &[&str] = &[
        "DataFrame",
        "Series",
        "BlockManager",
        "SingleBlockManager",
        "_unpickle_block",
        "_new_Index",
        "_new_DatetimeIndex",
        "Index",
        "RangeIndex",
        "DatetimeIndex",
        "Int64Index",
        "UInt64Index",
        "Float64Index",
        "NumericIndex",
        "__pyx_unpickle_NDArrayBacked",
        "DatetimeArray",
        "TimedeltaArray",
        "Categorical",
        "CategoricalDtype",
        "DatetimeTZDtype",
        "StringDtype",
        "StringArray",
        "ArrowStringArray",
        "ArrowStringArrayNumpySemantics",
        "IntegerArray",
        "FloatingArray",
        "BooleanArray",
        "Int8Dtype",
        "Int16Dtype",
        "Int32Dtype",
        "Int64Dtype",
        "UInt8Dtype",
        "UInt16Dtype",
        "UInt32Dtype",
        "UInt64Dtype",
        "Float32Dtype",
        "Float64Dtype",
        "BooleanDtype",
        "NA",
        "_unpickle_timestamp",
        "_timedelta_unpickle",
    ];
    NAMES.iter().find(|n| **n == name).copied()
}

/// The error for a global outside the allow-list.
pub(crate) fn refused(global: &str) -> Error {
    if global.ends_with(".MultiIndex") || global.ends_with("._new_MultiIndex") {
        return Error::new(
            ErrorKind::Unsupported,
            format!(
                "the pickle holds a pandas MultiIndex (`{global}`), which s3io does not read; \
                 in Python, save df.reset_index() instead"
            ),
        );
    }
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "the pickle refers to the Python global `{global}`; s3io never runs pickle code \
             and reads only builtins, stdlib datetimes and Decimals, numpy arrays and pandas \
             DataFrames and Series (docs/formats.md lists what)"
        ),
    )
}

fn malformed(why: impl std::fmt::Display, at: usize) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!("not a valid pickle: {why} (opcode at byte {at})"),
    )
}

/// Runs the pickle's opcodes and returns the graph they build.
#[cfg(test)]
pub(crate) fn run(bytes: &Bytes) -> Result<Graph> {
    run_lifted(Lifted::whole(bytes.clone()))
}

/// Runs the opcodes of a pickle whose large payloads may have been lifted out: each opcode
/// left with a count of zero where one was reads as its payload, held in the graph.
pub(crate) fn run_lifted(input: Lifted) -> Result<Graph> {
    let mut m = Machine::default();
    let bytes = &input.skeleton;
    let mut ops = Opcodes { bytes, pos: 0 };
    loop {
        let at = ops.pos;
        let Some(op) = ops.byte() else {
            let at = input.origin(at);
            return Err(malformed("the pickle ends before its STOP opcode", at));
        };
        match m.step(op, &mut ops, &input) {
            Ok(Some(root)) => {
                let held = input.payloads.into_iter().map(|p| Some(p.bytes).into());
                return Ok(Graph {
                    nodes: m.nodes,
                    root,
                    held: held.collect(),
                });
            }
            Ok(None) => {}
            Err(Step::Refused(e)) => return Err(e),
            Err(Step::Bad(why)) => return Err(malformed(why, input.origin(at))),
        }
    }
}

pub(crate) enum Step {
    Refused(Error),
    Bad(String),
}

impl From<String> for Step {
    fn from(why: String) -> Self {
        Step::Bad(why)
    }
}

impl From<&str> for Step {
    fn from(why: &str) -> Self {
        Step::Bad(why.to_owned())
    }
}

#[derive(Default)]
struct Machine {
    nodes: Vec<Node>,
    stack: Vec<V>,
    marks: Vec<Vec<V>>,
    memo: Memo<V>,
}

type StepResult = std::result::Result<Option<V>, Step>;

impl Machine {
    fn step(&mut self, op: u8, ops: &mut Opcodes<'_>, input: &Lifted) -> StepResult {
        let whole = &input.skeleton;
        let eof = || Step::Bad("the pickle ends inside an opcode's argument".into());
        if let Some(made) = leaf(op, ops) {
            let v = match made? {
                Leaf::None => V::None,
                Leaf::Bool(b) => V::Bool(b),
                Leaf::Int(i) => V::Int(i),
                Leaf::Big(b) => V::Big(Rc::new(b)),
                Leaf::Float(f) => V::Float(f),
                Leaf::Str(text) => V::Str(text.into()),
                Leaf::Text(text) => V::Str(text.into()),
                Leaf::Bytes(raw) => {
                    let start = raw.as_ptr() as usize - whole.as_ptr() as usize;
                    match input.payload_at(start).filter(|_| raw.is_empty()) {
                        Some(id) => V::Held(id as u32),
                        None => V::Bytes(whole.slice(start..start + raw.len())),
                    }
                }
                Leaf::OwnedBytes(raw) => V::Bytes(Bytes::from(raw)),
            };
            self.stack.push(v);
            return Ok(None);
        }
        match op {
            0x80 => drop(ops.take(1).ok_or_else(eof)?),
            0x95 => drop(ops.take(8).ok_or_else(eof)?),
            b'.' => return Ok(Some(self.pop()?)),
            b'(' => self.marks.push(std::mem::take(&mut self.stack)),
            b'0' => {
                if self.stack.is_empty() && !self.marks.is_empty() {
                    self.pop_mark()?;
                } else {
                    self.pop()?;
                }
            }
            b'1' => drop(self.pop_mark()?),
            b'2' => {
                let top = self.stack.last().ok_or("DUP on an empty stack")?.clone();
                self.stack.push(top);
            }
            b'p' => {
                let id = text_u32(ops.line().ok_or_else(eof)?)?;
                self.put(id)?;
            }
            b'q' => self.put(ops.uint(1).ok_or_else(eof)? as u32)?,
            b'r' => self.put(ops.uint(4).ok_or_else(eof)? as u32)?,
            0x94 => self.put(self.memo.len() as u32)?,
            b'g' => {
                let id = text_u32(ops.line().ok_or_else(eof)?)?;
                self.get(id)?;
            }
            b'h' => self.get(ops.uint(1).ok_or_else(eof)? as u32)?,
            b'j' => self.get(ops.uint(4).ok_or_else(eof)? as u32)?,
            0x97 => {
                return Err(Step::Refused(Error::new(
                    ErrorKind::Decode,
                    "not a valid pickle: NEXT_BUFFER asks for an out-of-band buffer, and a \
                     pickle read from storage has none (protocol 5 pickles must keep their \
                     buffers in-band)",
                )));
            }
            0x98 => {
                self.stack
                    .last()
                    .ok_or("READONLY_BUFFER on an empty stack")?;
            }
            b')' => self.stack.push(V::Tuple(Rc::from(Vec::new()))),
            b']' => {
                let v = self.node(Node::List(Vec::new()));
                self.stack.push(v);
            }
            b'}' => {
                let v = self.node(Node::Dict(Vec::new()));
                self.stack.push(v);
            }
            0x8f => {
                let v = self.node(Node::Set {
                    items: Vec::new(),
                    frozen: false,
                });
                self.stack.push(v);
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let at = self.stack.len().checked_sub(n).ok_or("stack underflow")?;
                let items = self.stack.split_off(at);
                self.stack.push(V::Tuple(items.into()));
            }
            b't' => {
                let items = self.pop_mark()?;
                self.stack.push(V::Tuple(items.into()));
            }
            b'l' => {
                let items = self.pop_mark()?;
                let v = self.node(Node::List(items));
                self.stack.push(v);
            }
            0x91 => {
                let items = self.pop_mark()?;
                let v = self.node(Node::Set {
                    items,
                    frozen: true,
                });
                self.stack.push(v);
            }
            b'd' => {
                let items = self.pop_mark()?;
                let pairs = pairs(items)?;
                let v = self.node(Node::Dict(pairs));
                self.stack.push(v);
            }
            b'a' => {
                let item = self.pop()?;
                self.extend(vec![item])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                self.extend(items)?;
            }
            b's' => {
                let value = self.pop()?;
                let key = self.pop()?;
                self.set_items(vec![(key, value)])?;
            }
            b'u' => {
                let items = self.pop_mark()?;
                self.set_items(pairs(items)?)?;
            }
            0x90 => {
                let items = self.pop_mark()?;
                self.extend(items)?;
            }
            b'c' => {
                let module = ascii(ops.line().ok_or_else(eof)?)?.to_owned();
                let name = ascii(ops.line().ok_or_else(eof)?)?.to_owned();
                let g = global(&module, &name)?;
                self.stack.push(V::Global(g));
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (V::Str(module), V::Str(name)) = (module, name) else {
                    return Err("STACK_GLOBAL needs two strings".into());
                };
                let g = global(&module, &name)?;
                self.stack.push(V::Global(g));
            }
            0x82..=0x84 => {
                return Err(Step::Refused(refused("<extension registry code>")));
            }
            b'P' | b'Q' => return Err(Step::Refused(refused("<persistent id>"))),
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let v = self.call(callable, args)?;
                self.stack.push(v);
            }
            0x81 => {
                let args = self.pop()?;
                let class = self.pop()?;
                let v = self.call(class, args)?;
                self.stack.push(v);
            }
            0x92 => {
                let _kwargs = self.pop()?;
                let args = self.pop()?;
                let class = self.pop()?;
                let v = self.call(class, args)?;
                self.stack.push(v);
            }
            b'o' => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err("OBJ without a class".into());
                }
                let class = items.remove(0);
                let v = self.call(class, V::Tuple(items.into()))?;
                self.stack.push(v);
            }
            b'i' => {
                let module = ascii(ops.line().ok_or_else(eof)?)?.to_owned();
                let name = ascii(ops.line().ok_or_else(eof)?)?.to_owned();
                let g = global(&module, &name)?;
                let items = self.pop_mark()?;
                let v = self.call(V::Global(g), V::Tuple(items.into()))?;
                self.stack.push(v);
            }
            b'b' => {
                let state = self.pop()?;
                let target = self.stack.last().ok_or("BUILD on an empty stack")?;
                let V::Node(id) = target else {
                    return Err("BUILD on a value that is not an object".into());
                };
                match &mut self.nodes[*id as usize] {
                    Node::Object { state: slot, .. } => *slot = Some(state),
                    _ => return Err("BUILD on a container".into()),
                }
            }
            other => return Err(format!("unknown opcode 0x{other:02x}").into()),
        }
        Ok(None)
    }

    fn pop(&mut self) -> std::result::Result<V, Step> {
        self.stack.pop().ok_or_else(|| "stack underflow".into())
    }

    fn pop_mark(&mut self) -> std::result::Result<Vec<V>, Step> {
        let below = self.marks.pop().ok_or("no MARK to pop to")?;
        Ok(std::mem::replace(&mut self.stack, below))
    }

    fn node(&mut self, node: Node) -> V {
        self.nodes.push(node);
        V::Node(self.nodes.len() as u32 - 1)
    }

    fn put(&mut self, id: u32) -> std::result::Result<(), Step> {
        let top = self.stack.last().ok_or("PUT on an empty stack")?.clone();
        self.memo.insert(id, top);
        Ok(())
    }

    fn get(&mut self, id: u32) -> std::result::Result<(), Step> {
        let v = self
            .memo
            .get(id)
            .ok_or_else(|| format!("memo entry {id} is read before it is written"))?
            .clone();
        self.stack.push(v);
        Ok(())
    }

    fn top_node(&mut self) -> std::result::Result<&mut Node, Step> {
        match self.stack.last() {
            Some(V::Node(id)) => Ok(&mut self.nodes[*id as usize]),
            Some(_) => Err("the stack top is not a container".into()),
            None => Err("stack underflow".into()),
        }
    }

    /// APPEND(S), ADDITEMS.
    fn extend(&mut self, more: Vec<V>) -> std::result::Result<(), Step> {
        match self.top_node()? {
            Node::List(items) | Node::Set { items, .. } => items.extend(more),
            _ => return Err("APPEND to something that is not a list".into()),
        }
        Ok(())
    }

    /// SETITEM(S): to a dict, or to an object such as an OrderedDict.
    fn set_items(&mut self, more: Vec<(V, V)>) -> std::result::Result<(), Step> {
        match self.top_node()? {
            Node::Dict(items) | Node::Object { items, .. } => items.extend(more),
            _ => return Err("SETITEM on something that is not a dict".into()),
        }
        Ok(())
    }

    /// A call to an allowed global: evaluated for the builtins that only build values,
    /// recorded as an object otherwise.
    fn call(&mut self, callable: V, args: V) -> std::result::Result<V, Step> {
        let V::Global(class) = callable else {
            return Err("a call to something that is not a global".into());
        };
        let V::Tuple(list) = &args else {
            return Err(format!("the arguments of {class} are not a tuple").into());
        };
        let list = list.clone();
        match (class, &list[..]) {
            ("getattr", [V::Global(owner), V::Str(attr)]) => {
                let full = format!("{owner}.{attr}");
                return match full.as_str() {
                    "ZoneInfo._unpickle" => Ok(V::Global("ZoneInfo._unpickle")),
                    _ => Err(Step::Refused(refused(&full))),
                };
            }
            ("getattr", _) => return Err("getattr with arguments it cannot take".into()),
            ("codecs.encode", [V::Str(text), ..]) => {
                let bytes: Option<Vec<u8>> = text
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).ok())
                    .collect();
                let bytes = bytes.ok_or("_codecs.encode of text beyond Latin-1")?;
                return Ok(V::Bytes(Bytes::from(bytes)));
            }
            ("bytes" | "bytearray", []) => return Ok(V::Bytes(Bytes::new())),
            ("bytes" | "bytearray", [V::Bytes(b)]) => return Ok(V::Bytes(b.clone())),
            ("bytes" | "bytearray", [V::Held(id)]) => return Ok(V::Held(*id)),
            ("set" | "frozenset" | "list", rest) => {
                let items = match rest {
                    [] => Vec::new(),
                    [V::Tuple(t)] => t.to_vec(),
                    [V::Node(id)] => match &self.nodes[*id as usize] {
                        Node::List(items) | Node::Set { items, .. } => items.clone(),
                        _ => return Err(format!("{class} of something not iterable").into()),
                    },
                    _ => return Err(format!("{class} of something not iterable").into()),
                };
                let node = if class == "list" {
                    Node::List(items)
                } else {
                    Node::Set {
                        items,
                        frozen: class == "frozenset",
                    }
                };
                return Ok(self.node(node));
            }
            ("reconstructor", [V::Global(cls), ..]) => {
                let cls = *cls;
                return Ok(self.node(Node::Object {
                    class: cls,
                    args: V::Tuple(Rc::from(Vec::new())),
                    state: None,
                    items: Vec::new(),
                }));
            }
            _ => {}
        }
        Ok(self.node(Node::Object {
            class,
            args,
            state: None,
            items: Vec::new(),
        }))
    }
}

/// A value one opcode makes on its own, from its argument alone: what both machines read the
/// same way (this one, and the tree builder of builtin values).
pub(crate) enum Leaf<'a> {
    None,
    Bool(bool),
    Int(i64),
    Big(BigInt),
    Float(f64),
    /// UTF-8 text, checked, as it lies in the pickle.
    Str(&'a str),
    /// Text decoded from escapes (protocol 0) or a Python 2 `str`.
    Text(String),
    /// bytes or bytearray, as they lie in the pickle.
    Bytes(&'a [u8]),
    /// A Python 2 `str` that is not UTF-8.
    OwnedBytes(Vec<u8>),
}

/// The value opcode `op` makes on its own, its argument read from `ops`; `None` if `op` is
/// not such an opcode. Every length is checked against the bytes present before anything is
/// allocated for it.
pub(crate) fn leaf<'a>(
    op: u8,
    ops: &mut Opcodes<'a>,
) -> Option<std::result::Result<Leaf<'a>, Step>> {
    let eof = || Step::Bad("the pickle ends inside an opcode's argument".into());
    let text = |raw: &'a [u8]| {
        std::str::from_utf8(raw)
            .map(Leaf::Str)
            .map_err(|_| Step::from("a str that is not UTF-8"))
    };
    let made = match op {
        b'N' => Ok(Leaf::None),
        0x88 => Ok(Leaf::Bool(true)),
        0x89 => Ok(Leaf::Bool(false)),
        b'I' => ops
            .line()
            .ok_or_else(eof)
            .and_then(|line| match ascii(line)? {
                "01" => Ok(Leaf::Bool(true)),
                "00" => Ok(Leaf::Bool(false)),
                text => parse_int(text),
            }),
        b'L' => ops.line().ok_or_else(eof).and_then(|line| {
            let line = ascii(line)?;
            parse_int(line.strip_suffix('L').unwrap_or(line))
        }),
        b'F' => ops.line().ok_or_else(eof).and_then(|line| {
            let line = ascii(line)?;
            line.trim()
                .parse::<f64>()
                .map(Leaf::Float)
                .map_err(|_| format!("{line:?} is not a float").into())
        }),
        b'K' => ops.uint(1).ok_or_else(eof).map(|v| Leaf::Int(v as i64)),
        b'M' => ops.uint(2).ok_or_else(eof).map(|v| Leaf::Int(v as i64)),
        b'J' => ops
            .uint(4)
            .ok_or_else(eof)
            .map(|v| Leaf::Int(i64::from(v as u32 as i32))),
        b'G' => ops
            .take(8)
            .ok_or_else(eof)
            .map(|raw| Leaf::Float(f64::from_be_bytes(raw.try_into().expect("8 bytes")))),
        0x8a => ops.counted(1).ok_or_else(eof).map(long),
        0x8b => ops.counted(4).ok_or_else(eof).map(long),
        // STRING: Python 2 str as a quoted literal; SHORT_BINSTRING, BINSTRING.
        b'S' => ops.line().ok_or_else(eof).and_then(unquote).map(py2_str),
        b'U' => ops
            .counted(1)
            .ok_or_else(eof)
            .map(|raw| py2_str(raw.to_vec())),
        b'T' => ops
            .counted(4)
            .ok_or_else(eof)
            .map(|raw| py2_str(raw.to_vec())),
        b'V' => ops
            .line()
            .ok_or_else(eof)
            .and_then(raw_unicode_escape)
            .map(Leaf::Text),
        0x8c => ops.counted(1).ok_or_else(eof).and_then(text),
        b'X' => ops.counted(4).ok_or_else(eof).and_then(text),
        0x8d => ops.counted(8).ok_or_else(eof).and_then(text),
        b'C' => ops.counted(1).ok_or_else(eof).map(Leaf::Bytes),
        b'B' => ops.counted(4).ok_or_else(eof).map(Leaf::Bytes),
        0x8e | 0x96 => ops.counted(8).ok_or_else(eof).map(Leaf::Bytes),
        _ => return None,
    };
    Some(made)
}

fn global(module: &str, name: &str) -> std::result::Result<Global, Step> {
    allowed(module, name).ok_or_else(|| Step::Refused(refused(&format!("{module}.{name}"))))
}

fn pairs(items: Vec<V>) -> std::result::Result<Vec<(V, V)>, Step> {
    if !items.len().is_multiple_of(2) {
        return Err("a dict with a key and no value".into());
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

fn ascii(raw: &[u8]) -> std::result::Result<&str, Step> {
    std::str::from_utf8(raw).map_err(|_| "an argument that is not text".into())
}

pub(crate) fn text_u32(raw: &[u8]) -> std::result::Result<u32, Step> {
    ascii(raw)?
        .trim()
        .parse()
        .map_err(|_| "a memo id that is not a number".into())
}

fn parse_int(text: &str) -> std::result::Result<Leaf<'static>, Step> {
    let text = text.trim();
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Leaf::Int(i));
    }
    text.parse::<BigInt>()
        .map(Leaf::Big)
        .map_err(|_| format!("{text:?} is not an int").into())
}

/// LONG1/LONG4: little-endian two's complement.
fn long(raw: &[u8]) -> Leaf<'static> {
    if raw.len() <= 8 {
        let mut buf = if raw.last().is_some_and(|b| b & 0x80 != 0) {
            [0xff; 8]
        } else {
            [0; 8]
        };
        buf[..raw.len()].copy_from_slice(raw);
        return Leaf::Int(i64::from_le_bytes(buf));
    }
    Leaf::Big(BigInt::from_signed_bytes_le(raw))
}

/// A Python 2 `str`: text when it is UTF-8, bytes otherwise.
fn py2_str(raw: Vec<u8>) -> Leaf<'static> {
    match String::from_utf8(raw) {
        Ok(text) => Leaf::Text(text),
        Err(e) => Leaf::OwnedBytes(e.into_bytes()),
    }
}

/// The body of a protocol 0 STRING literal: `'...'` or `"..."` with Python's escapes.
fn unquote(line: &[u8]) -> std::result::Result<Vec<u8>, Step> {
    let body = match line {
        [b'\'', body @ .., b'\''] | [b'"', body @ .., b'"'] => body,
        _ => return Err("a STRING that is not quoted".into()),
    };
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let e = *body.get(i).ok_or("a STRING ending in a backslash")?;
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'0' => out.push(0),
            b'x' => {
                let hex = body.get(i..i + 2).ok_or("a short \\x escape")?;
                let v = u8::from_str_radix(ascii(hex)?, 16).map_err(|_| "a bad \\x escape")?;
                out.push(v);
                i += 2;
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// UNICODE's raw-unicode-escape: `\uXXXX` and `\UXXXXXXXX`, other bytes as Latin-1.
fn raw_unicode_escape(raw: &[u8]) -> std::result::Result<String, Step> {
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        let width = match (b, raw.get(i + 1)) {
            (b'\\', Some(b'u')) => 4,
            (b'\\', Some(b'U')) => 8,
            _ => 0,
        };
        if width == 0 {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        let hex = raw.get(i + 2..i + 2 + width).ok_or("a short \\u escape")?;
        let code = u32::from_str_radix(ascii(hex)?, 16).map_err(|_| "a bad \\u escape")?;
        out.push(char::from_u32(code).ok_or("a \\u escape that is no character")?);
        i += 2 + width;
    }
    Ok(out)
}
