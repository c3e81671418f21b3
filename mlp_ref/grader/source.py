"""A submission's source as the interpreter reads it (in the child, before the submission loads), and
its syntax tree (in the grader, for the scans)."""
import ast
import io
import threading
import tokenize

# CPython 3.11's parser keeps its recursion depth in shared state: two threads in ast.parse at once
# (ast.literal_eval parses too) can fail with "SystemError: AST constructor recursion depth mismatch",
# and a folder run grades in threads.
_PARSE = threading.Lock()


MAX_SOURCE = 1 << 20  # characters of a submission the grader's scans read; a homework is a few kB


def read(path):
    """A submission's text for the grader's scans (at most MAX_SOURCE + 1 characters, undecodable
    bytes replaced), or "" when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(MAX_SOURCE + 1).decode("utf-8", "replace")
    except OSError:
        return ""


def parse(text):
    """ast.parse(text), one thread at a time."""
    with _PARSE:
        return ast.parse(text)


def literal(text):
    """ast.literal_eval(text), one thread at a time."""
    with _PARSE:
        return ast.literal_eval(text)


def strict_text(source, path):
    """The source decoded as `python file.py` decodes it: the PEP 263 encoding line, else UTF-8, strictly.
    compile() on bytes lets invalid UTF-8 in a comment or string through; the interpreter does not."""
    try:
        encoding, cookie_error = tokenize.detect_encoding(io.BytesIO(source).readline)[0], None
    except SyntaxError as e:  # a bad encoding line, or bytes that are not UTF-8 in the first two lines
        encoding, cookie_error = "utf-8", e
    try:
        text = source.decode(encoding)
        if cookie_error is not None:
            raise cookie_error
        return text
    except UnicodeDecodeError as e:
        line = source.count(b"\n", 0, e.start) + 1
        text = source.split(b"\n")[line - 1].decode(encoding, "replace")
        raise SyntaxError(f"Non-UTF-8 code starting with '\\x{source[e.start]:02x}' in file {path} on line {line}, "
                          "but no encoding declared; "
                          "see https://peps.python.org/pep-0263/ for details", (path, line, 0, text)) from None
