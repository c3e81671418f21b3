"""A notebook (.ipynb, plain JSON) as one Python module: its code cells in order, IPython-only lines dropped.

A dropped line (`%magic`, `!shell`, `x = !ls`, `obj?`) becomes `pass` at its own indentation, so
every remaining line keeps its place and a line of the module maps back to "cell C, line L" (C counts
every cell from the top, markdown ones too, as a reader scrolls; L counts from 1 in that cell).
"""
import json
import re
from dataclasses import dataclass

# Cell magics whose body is not Python: the whole cell is dropped.
FOREIGN_CELLS = ("bash", "sh", "script", "system", "writefile", "html", "javascript", "js", "markdown", "latex",
                 "svg", "perl", "ruby", "sql", "capture_output")
MAX_CHARS = 64 * 2 ** 20  # images in saved outputs make notebooks large; this is far beyond any homework
_IPYTHON_LINE = re.compile(r"^\s*(%|!)|^\s*\w[\w.]*\s*=\s*[!%]|^\s*[\w.]+\?{1,2}\s*$")


class NotebookError(ValueError):
    """A file that is not a readable notebook; str() says why."""


@dataclass
class Module:
    """A notebook's code as a module: source, and for each of its lines (1-based) the (cell, line) it came from."""
    source: str
    origin: list  # origin[i - 1] = (cell, line) of module line i; (None, None) for a separator line
    dropped: int = 0

    def where(self, line):
        """'cell 3, line 12' for a line of the module (the raw line number when it maps to no cell)."""
        if line is None:
            return None
        if 1 <= line <= len(self.origin) and self.origin[line - 1][0] is not None:
            cell, at = self.origin[line - 1]
            return f"cell {cell}, line {at}"
        return f"line {line}"


def cells(text):
    """The notebook's cells as (type, source text); NotebookError for anything that is not a notebook."""
    if len(text) > MAX_CHARS:
        raise NotebookError(f"notebook too large: {len(text)} characters, at most {MAX_CHARS} "
                            "(clear the cells' outputs and save again)")
    try:
        nb = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise NotebookError(f"not a notebook: the file is not JSON ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("not a notebook: no list of 'cells' at the top (nbformat 4 expected)")
    out = []
    for i, cell in enumerate(nb["cells"], 1):
        if not isinstance(cell, dict):
            raise NotebookError(f"not a notebook: cell {i} is a {type(cell).__name__}, not an object")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"not a notebook: cell {i}'s source is neither a string nor a list of strings")
        out.append((cell.get("cell_type"), source))
    return out


def to_module(text):
    """The code cells of a notebook's JSON text as one Module."""
    lines, origin, dropped = [], [], 0
    for number, (kind, source) in enumerate(cells(text), 1):
        if kind != "code":
            continue
        body = source.splitlines()
        magic = body[0].strip()[2:].split()[0] if body and body[0].lstrip().startswith("%%") and \
            len(body[0].strip()) > 2 else None
        if magic in FOREIGN_CELLS:
            body, dropped = [], dropped + len(body)
        for at, line in enumerate(body, 1):
            if _IPYTHON_LINE.match(line):
                indent = line[: len(line) - len(line.lstrip())]
                line, dropped = indent + "pass", dropped + 1
            lines.append(line)
            origin.append((number, at))
        lines.append("")  # a cell ends any statement left open; keeps cells apart in tracebacks
        origin.append((None, None))
    return Module("\n".join(lines) + "\n", origin, dropped)
