"""A static scan of a submission's source for what a human should look at: flags, never a verdict.

Three kinds of token, found by the syntax tree (imports, attributes, calls) and by a token scan
(names and strings, so `getattr(torch, "autograd")` or "/proc/self" is seen too; comments are not):

    autograd       .backward(, torch.autograd, requires_grad, torch.func
    introspection  gc, ctypes, inspect, __closure__, edits of sys.modules, /proc
    process        os.fork, subprocess, setsid

A flag costs no points: an unused `import torch.func` is not cheating. Each one quotes its line.
"""
import ast
import io
import tokenize
from dataclasses import dataclass

from mlp_ref.grader.source import MAX_SOURCE, parse  # a larger file is scanned in part
from mlp_ref.grader.source import literal as source_literal

MODULES = {"gc": "introspection", "ctypes": "introspection", "inspect": "introspection",
           "subprocess": "process", "torch.autograd": "autograd", "torch.func": "autograd"}
ATTRIBUTES = {"backward": "autograd", "requires_grad": "autograd", "requires_grad_": "autograd",
              "autograd": "autograd", "func": "autograd", "__closure__": "introspection",
              "fork": "process", "forkpty": "process", "setsid": "process", "setpgid": "process"}
# In a name or a string, wherever it appears (obfuscated access goes through strings).
TOKENS = {"/proc": "introspection", "__closure__": "introspection", "requires_grad": "autograd",
          "autograd": "autograd", "setsid": "process", "subprocess": "process", "ctypes": "introspection"}
SYS_MODULES_EDITS = ("pop", "clear", "update", "setdefault", "popitem", "__setitem__", "__delitem__")


@dataclass(frozen=True)
class Flag:
    kind: str    # autograd | introspection | process
    token: str   # what was found, as written in the source
    line: int    # 1-based line of the scanned source
    quote: str   # that line, stripped and cut to 120 characters

    def describe(self, where=None):
        return f"{self.kind}: {self.token} at {where or f'line {self.line}'}: {self.quote}"


def _dotted(node):
    """'torch.autograd.grad' for a Name/Attribute chain, None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return None


def _module_kind(name):
    for module, kind in MODULES.items():
        if name == module or name.startswith(module + "."):
            return module, kind
    return None, None


def _own_models(tree):
    """Receivers that hold the submission's own objects, so their .backward(dout) is hand-written, not
    autograd: `self`; a name or attribute assigned an instance of a class the file defines (`net = MLP()`,
    `self.g_function = Sigmoid()`), or an item of a dict/list of them (`self.g = ACTIVATIONS[g]`).
    An attribute is matched by its last name too (`self.g_function` set in __init__, used through `mlp.g_function`)."""
    classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    own, attrs = {"self"}, set()

    def is_own(value):
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
            return value.func.id in classes
        if isinstance(value, (ast.Dict, ast.List, ast.Tuple)):
            items = value.values if isinstance(value, ast.Dict) else value.elts
            return bool(items) and all(is_own(v) for v in items)
        if isinstance(value, ast.Subscript):
            return is_own(value.value)
        return _dotted(value) in own if isinstance(value, (ast.Name, ast.Attribute)) else False

    for _ in range(3):  # an assignment may use a name an earlier pass found
        for n in ast.walk(tree):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AnnAssign) else []
            if targets and n.value is not None and is_own(n.value):
                for t in targets:
                    name = _dotted(t)
                    if name:
                        own.add(name)
                    if isinstance(t, ast.Attribute):
                        attrs.add(t.attr)
    return own, attrs


def _tensor_like(receiver, own, attrs):
    """Whether the object a .backward( is called on can be a tensor (not one of the submission's own)."""
    name = _dotted(receiver)
    if isinstance(receiver, ast.Subscript):
        name = _dotted(receiver.value)
        return not (name in own or (name or "").rsplit(".", 1)[-1] in attrs)
    if name is None:
        return True  # a call's result (`y_hat.sum().backward()`): a tensor's method chain
    return not (name in own or ("." in name and name.rsplit(".", 1)[-1] in attrs))


def _tree_flags(tree):
    found = []
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    own, attrs = _own_models(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            base = node.module if isinstance(node, ast.ImportFrom) else None
            for alias in node.names:
                name = f"{base}.{alias.name}" if base else alias.name
                module, kind = _module_kind(name)
                if kind is None and base:
                    module, kind = _module_kind(base)
                if kind is None and base == "os" and alias.name in ("fork", "forkpty", "setsid"):
                    module, kind = f"os.{alias.name}", "process"
                if kind:
                    found.append((kind, f"import {module}", node.lineno))
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node) or f".{node.attr}"
            if node.attr in ("autograd", "func") and not dotted.startswith("torch."):
                continue  # only torch's: `self.func` is nobody's business
            if node.attr in ("fork", "forkpty") and not dotted.startswith("os."):
                continue
            if node.attr in ATTRIBUTES:
                token = ".backward(" if node.attr == "backward" else dotted
                if node.attr == "backward" and (not _called(node, parents) or not _tensor_like(node.value, own, attrs)):
                    continue
                found.append((ATTRIBUTES[node.attr], token, node.lineno))
            if dotted == "sys.modules":
                found += _sys_modules_edit(node, parents)
    return found


def _called(node, parents):
    parent = parents.get(node)
    return isinstance(parent, ast.Call) and parent.func is node


def _sys_modules_edit(node, parents):
    """sys.modules[...] = / del sys.modules[...] / sys.modules.pop(...) and friends."""
    parent = parents.get(node)
    if isinstance(parent, ast.Subscript) and isinstance(parent.ctx, (ast.Store, ast.Del)):
        return [("introspection", "sys.modules edit", node.lineno)]
    if isinstance(parent, ast.Attribute) and parent.attr in SYS_MODULES_EDITS:
        return [("introspection", f"sys.modules.{parent.attr}", node.lineno)]
    return []


def _names(literal, needle):
    """Whether a string literal names the token: a path under /proc, or a (dotted) name with it as a part.
    Prose (a docstring that says "no autograd here") is not a name."""
    try:
        text = source_literal(literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    if not isinstance(text, str):
        return False
    if needle == "/proc":
        return "/proc/" in text or text == "/proc"
    return needle in text.strip().split(".") and text.strip().replace(".", "").replace("_", "").isalnum()


def _token_flags(source):
    found = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type not in (tokenize.NAME, tokenize.STRING):
                continue
            for needle, kind in TOKENS.items():
                if tok.type == tokenize.NAME and tok.string == needle:
                    found.append((kind, needle, tok.start[0]))
                elif tok.type == tokenize.STRING and _names(tok.string, needle):
                    found.append((kind, f"{needle!r} in a string", tok.start[0]))
    except (tokenize.TokenError, SyntaxError, RecursionError, MemoryError):
        pass  # an unfinished file: the tree scan (if it parsed) and the import error say the rest
    return found


def scan(source):
    """Flags for a submission's source text, one per (kind, token, line), in line order.
    Runs in the grader's process on untrusted text: bounded in size, and it never raises."""
    if len(source) > MAX_SOURCE:
        source = source[: source.rfind("\n", 0, MAX_SOURCE) + 1]  # whole lines: a cut line would not parse
    try:
        tree_found = _tree_flags(parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree_found = []
    lines = source.splitlines()
    seen, flags = set(), []
    for kind, token, line in sorted(tree_found + _token_flags(source), key=lambda f: f[2]):
        # One flag per kind and line: `import subprocess` is not also flagged by the token scan.
        if (kind, line) in seen:
            continue
        seen.add((kind, line))
        quote = lines[line - 1].strip()[:120] if 0 < line <= len(lines) else ""
        flags.append(Flag(kind, token, line, quote))
    return flags
