"""Python 2 source read as Python 3, for the package's own files.

The 2016 assignment was Python 2, and its own given lines were too (`for k, v in self.params.iteritems()`,
`xrange` in the bn_params list): run as written under Python 3 every net of that year raises before its
first layer. The package's modules are compiled from their source (never from a __pycache__ the
submission ships) after three token-level readings that leave Python 3 code as it is:
`.iteritems()`, `.itervalues()`, `.iterkeys()` as `.items()`, `.values()`, `.keys()`; `xrange` as
`range` (a builtin here); and, only in a file that does not compile as Python 3, a `print x, y`
statement as `print(x, y)`.
"""
import builtins
import importlib.abc
import importlib.machinery
import importlib.util
import io
import sys
import tokenize

PACKAGE = "cs231n"
RENAMED = {"iteritems": "items", "itervalues": "values", "iterkeys": "keys"}
_LINE_START = (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)


def _tokens(source):
    try:
        return list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


def _rename(tokens):
    return [t._replace(string=RENAMED[t.string]) if t.type == tokenize.NAME and t.string in RENAMED
            and i and tokens[i - 1].string == "." else t for i, t in enumerate(tokens)]


def _print_calls(tokens):
    """`print a, b` statements as `print(a, b)`: parentheses around the rest of the logical line."""
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        statement = t.type == tokenize.NAME and t.string == "print" and (i == 0 or tokens[i - 1].type in _LINE_START)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if not statement or nxt is None or nxt.string in ("(", "=", ".") or nxt.string.startswith(">>"):
            out.append((t.type, t.string))
            i += 1
            continue
        out += [(t.type, t.string), (tokenize.OP, "(")]
        i += 1
        while i < len(tokens) and tokens[i].type not in (tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.COMMENT):
            out.append((tokens[i].type, tokens[i].string))
            i += 1
        out.append((tokenize.OP, ")"))
    return out


def modernize(source):
    """The source with Python 2's dict iterators renamed, and its print statements made calls where
    it does not compile as Python 3. Source that does not tokenize is returned as it is."""
    tokens = _tokens(source)
    if tokens is None or not any(t.type == tokenize.NAME and t.string in RENAMED for t in tokens):
        renamed = source
    else:
        renamed = tokenize.untokenize(_rename(tokens))
    try:
        compile(renamed, "<submission>", "exec", dont_inherit=True)
        return renamed
    except SyntaxError:
        tokens = _tokens(renamed)
        return renamed if tokens is None else tokenize.untokenize(_print_calls(tokens))
    except (ValueError, RecursionError, MemoryError):  # null bytes, nesting too deep: left to the import
        return renamed


class Python2Tolerant(importlib.machinery.SourceFileLoader):
    """A source loader that compiles the modernized source, always from the .py file."""

    def get_code(self, fullname):
        return self.source_to_code(self.get_data(self.path), self.path)

    def source_to_code(self, data, path, *, _optimize=-1):
        return compile(modernize(importlib.util.decode_source(data)), path, "exec", dont_inherit=True)


class Finder(importlib.abc.MetaPathFinder):
    """First on sys.meta_path: the package's own modules, found as usual, loaded by Python2Tolerant."""

    def find_spec(self, name, path=None, target=None):
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            spec.loader = Python2Tolerant(spec.name, spec.origin)
        return spec


def install():
    """xrange as a builtin, and the package's modules read through modernize()."""
    if not hasattr(builtins, "xrange"):
        builtins.xrange = range
    sys.meta_path.insert(0, Finder())
