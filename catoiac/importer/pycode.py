"""Python source for values and calls, laid out as ``ruff format`` lays them out, so the generated
program is ruff-clean as written (and a second import writes the same bytes).

The rule is ruff's (and black's) for brackets: a call, list or dict that fits on its line (88
columns) stays on it; one that does not is exploded, one item per line with a trailing comma (the
"magic trailing comma" ruff then keeps), each item laid out by the same rule one level deeper.
Strings use double quotes unless single quotes need fewer escapes, as ruff prefers.
"""

from __future__ import annotations

import keyword
import re
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

LINE = 88  # ruff's default line length
INDENT = "    "


@dataclass(frozen=True)
class Expr:
    """Python source that stands for a value: ``hq.site.name``. ``value`` is what it evaluates to
    in the program (the live value), for checking the program against the account."""

    code: str
    value: Any = None


@dataclass(frozen=True)
class Call:
    """A call: ``func(*args, **kwargs)``, kwargs in the order given."""

    func: str
    args: Sequence[Any] = ()
    kwargs: Sequence[tuple[str, Any]] = field(default_factory=tuple)


_INVISIBLE = ("Cc", "Cf", "Cs", "Zl", "Zp")  # control, format (bidi overrides), surrogates, separators


def visible(text: str) -> str:
    """``text`` with invisible and bidirectional-control characters (but line breaks) as ``\\uXXXX``, for
    prose (docstrings, the README): a name from Cato cannot reorder what a reviewer reads."""
    return "".join(
        f"\\u{ord(ch):04x}" if ch != "\n" and unicodedata.category(ch) in _INVISIBLE else ch for ch in text
    )


_PLAIN = re.compile(r"[ !#-&(-\[\]-~]*")  # printable ASCII but quotes and backslashes: no escape


def string(text: str) -> str:
    """A string literal as ruff writes it."""
    if _PLAIN.fullmatch(text):  # most names: nothing to escape (thousands of them per program)
        return f'"{text}"'
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif unicodedata.category(ch) in _INVISIBLE:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) > 0xFF else f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return quote + "".join(out) + quote


def flat(value: Any) -> str:
    if isinstance(value, Expr):
        return value.code
    if isinstance(value, Call):
        parts = [flat(a) for a in value.args] + [f"{k}={flat(v)}" for k, v in value.kwargs]
        return f"{value.func}({', '.join(parts)})"
    if isinstance(value, str):
        return string(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{flat(k)}: {flat(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flat(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as Python")


def source(value: Any, indent: int = 0, column: int | None = None, tail: int = 0) -> str:
    """``value`` as source whose first line starts at ``column`` (default: the indentation) of a
    line indented ``indent`` levels and followed by ``tail`` more characters (a comma, a bracket)."""
    column = len(INDENT) * indent if column is None else column
    one_line = flat(value)
    if column + len(one_line) + tail <= LINE or "\n" in one_line:
        return one_line
    inner = INDENT * (indent + 1)
    close = INDENT * indent
    if isinstance(value, Call) and (value.args or value.kwargs):
        lines = [inner + source(a, indent + 1, tail=1) + "," for a in value.args]
        lines += [
            inner + f"{k}=" + source(v, indent + 1, len(inner) + len(k) + 1, 1) + "," for k, v in value.kwargs
        ]
        return f"{value.func}(\n" + "\n".join(lines) + f"\n{close})"
    if isinstance(value, Mapping) and value:
        lines = []
        for k, v in value.items():
            key = flat(k) + ": "
            lines.append(inner + key + source(v, indent + 1, len(inner) + len(key), 1) + ",")
        return "{\n" + "\n".join(lines) + f"\n{close}}}"
    if isinstance(value, list | tuple) and value:
        lines = [inner + source(v, indent + 1, tail=1) + "," for v in value]
        return "[\n" + "\n".join(lines) + f"\n{close}]"
    if isinstance(value, str):  # implicit concatenation in parentheses, as ruff keeps it
        parts = chunks(value, LINE - len(inner))
        if len(parts) > 1:
            return "(\n" + "\n".join(inner + string(p) for p in parts) + f"\n{close})"
    return one_line  # a number longer than the line: ruff leaves it as it is


def chunks(text: str, width: int) -> list[str]:
    """``text`` in pieces whose literals fit ``width`` columns, cut after spaces and commas where
    possible (a long description, a policy's ``import_`` id naming its sections)."""
    out: list[str] = []
    current = ""
    for token in re.findall(r"[^ ,]+[ ,]*|[ ,]+", text):
        if current and len(string(current + token)) > width:
            out.append(current)
            current = ""
        current += token
        while len(string(current)) > width and len(current) > 1:  # one token too long: cut it
            cut = max(k for k in range(1, len(current)) if len(string(current[:k])) <= width or k == 1)
            out.append(current[:cut])
            current = current[cut:]
    return [*out, current] if current else out


def assign(name: str, value: Any) -> str:
    """A top-level statement ``name = value``."""
    return f"{name} = " + source(value, 0, len(name) + 3)


def docstring(text: str) -> str:
    """A module docstring: paragraphs wrapped to the line length, closing quotes on their own line
    when it has more than one line; backslashes and triple quotes escaped."""
    text = visible(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines: list[str] = []
    for n, para in enumerate(text.strip().split("\n\n")):
        if n:
            lines.append("")
        width = LINE - (3 if n == 0 else 0)
        lines += textwrap.wrap(" ".join(para.split()), width, break_long_words=False, break_on_hyphens=False)
    if len(lines) == 1 and len(lines[0]) + 6 <= LINE:
        return f'"""{lines[0]}"""'
    return '"""' + "\n".join(lines) + '\n"""'


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """``"Tel Aviv / Guests"`` -> ``"tel-aviv-guests"``; accents dropped, "" if nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _SLUG.sub("-", ascii_text.lower()).strip("-")


def identifier(text: str, prefix: str) -> str:
    """A Python identifier from a slug: ``tel-aviv`` -> ``tel_aviv``; ``prefix`` before a digit or
    an empty slug; a keyword gets a trailing underscore."""
    ident = text.replace("-", "_")
    if not ident or ident[0].isdigit():
        ident = f"{prefix}_{ident}".rstrip("_")
    return f"{ident}_" if keyword.iskeyword(ident) or keyword.issoftkeyword(ident) else ident
