"""The float64 probe's finding: does the submission run in float64, and if not, which line and what fix.

A correct float32 submission may make helper tensors in torch's default dtype (torch.ones(n) to sum a
bias gradient, (z > 0).float() as a ReLU mask, a numpy round trip); in float64 those crash or hand
back float32. The probe never costs points (unless --strict); its finding tells the student where
the file is tied to float32. The line comes from the probe's own traceback when that line makes a
default-dtype tensor, else from a static scan of the source (parsed, never run, here in the grader).
"""
import ast
from typing import NamedTuple, Optional

from mlp_ref.grader.source import MAX_SOURCE, parse  # a larger file is not scanned

# torch constructors that make a default-dtype (float32) tensor unless given dtype=, and the fix for each;
# {v} is a tensor in scope where the call is (the enclosing function's argument, see _dtype_source).
CONSTRUCTORS = {
    "ones": "pass dtype={v}.dtype or use .sum(0)", "zeros": "pass dtype={v}.dtype or use torch.zeros_like",
    "empty": "pass dtype={v}.dtype or use torch.empty_like", "full": "pass dtype={v}.dtype or use torch.full_like",
    "arange": "pass dtype={v}.dtype", "eye": "pass dtype={v}.dtype", "rand": "pass dtype={v}.dtype",
    "randn": "pass dtype={v}.dtype", "linspace": "pass dtype={v}.dtype", "tensor": "pass dtype={v}.dtype",
    "Tensor": "use torch.tensor(..., dtype={v}.dtype)", "FloatTensor": "use torch.tensor(..., dtype={v}.dtype)",
}
FLOAT32_NAMES = ("float32", "float", "single")
GRADS = ("dW1", "db1", "dW2", "db2")
# Tensors a fix may take its dtype from, by name, best first: the interface's own arguments.
DTYPE_SOURCES = ("x", "y_hat", "z", "z1", "z2", "h", "dJdy_hat", "dout", "y")
# In-place clears keep a tensor's dtype: grads made in __init__ (float32, torch's default) and cleared with
# zero_() stay float32 whatever the case's dtype.
IN_PLACE_CLEARS = ("zero_", "fill_", "mul_")
CLEAR_FIX = ("they keep the float32 dtype __init__ gave them; make new ones with torch.zeros_like(parameter) "
             "in clear_grad_and_cache")


class Flag(NamedTuple):
    """A line that ties the file to float32: what it does, the call, the fix."""
    line: int
    code: str
    fix: str
    what: str = "makes a float32 tensor with"

    def said(self):
        return f"line {self.line} {self.what} {self.code}; {self.fix}"


class Finding(NamedTuple):
    runs: Optional[bool]   # None: no probe ran (float64 graded, or nothing ran)
    text: str
    line: Optional[int] = None


def _names_float32(node):
    """Whether an expression names float32: torch.float32, np.float32, "float32", torch.float."""
    if isinstance(node, ast.Attribute):
        return node.attr in FLOAT32_NAMES
    if isinstance(node, ast.Constant):
        return node.value in FLOAT32_NAMES
    return False


def _dtype_source(func):
    """A tensor in scope in `func` to take a dtype from: its best-named argument, else its first one."""
    if func is None:
        return "x"
    args = [a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs]
    tensors = [a for a in args if a not in ("self", "cls")]
    named = [a for a in DTYPE_SOURCES if a in tensors]
    if named or tensors:
        return (named or tensors)[0]
    return "self.parameters['W1']" if args[:1] == ["self"] else "x"


def _flag(call, v="x"):
    """The fix for a call that makes a float32 tensor whatever its inputs' dtype, else None."""
    f = call.func
    if not isinstance(f, ast.Attribute):
        return None
    kwargs = {k.arg: k.value for k in call.keywords}
    if "dtype" in kwargs:
        return f"pass dtype={v}.dtype" if _names_float32(kwargs["dtype"]) else None
    if isinstance(f.value, ast.Name) and f.value.id == "torch" and f.attr in CONSTRUCTORS:
        return CONSTRUCTORS[f.attr].format(v=v)
    if f.attr == "float" and not call.args:
        return f"use .to({v}.dtype)"
    if f.attr in ("to", "type", "astype") and call.args and _names_float32(call.args[0]):
        return f"convert to {v}.dtype instead"
    return None


def _clears_grads(call, func, source):
    """Whether a call clears a gradient in place (zero_(), fill_(0), mul_(0)) outside __init__."""
    f = call.func
    if not isinstance(f, ast.Attribute) or f.attr not in IN_PLACE_CLEARS:
        return False
    target = ast.get_source_segment(source, f.value) or ""
    return "grad" in target.lower() or (func is not None and ("clear" in func.name or "zero" in func.name))


def scan(source):
    """[Flag] for every call outside __init__ that makes a float32 tensor or clears a gradient in place,
    in line order."""
    if len(source) > MAX_SOURCE:
        return []
    try:
        tree = parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    skip, enclosing = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # Breadth first: an inner function is seen after its outer one and wins.
            enclosing.update({id(n): node for n in ast.walk(node) if n is not node})
            # __init__'s tensors are the parameters and grads the grader replaces before every case.
            if node.name == "__init__":
                skip |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in skip:
            continue
        func = enclosing.get(id(node))
        code = (ast.get_source_segment(source, node) or "").replace("\n", " ")[:60]
        fix = _flag(node, _dtype_source(func))
        if fix:
            out.append(Flag(node.lineno, code, fix))
        elif _clears_grads(node, func, source):
            out.append(Flag(node.lineno, code, CLEAR_FIX, "clears the grads in place with"))
    return sorted(set(out))


def _runs(c):
    """Whether a failing probe ran: it returned values of the right dtype and shape that only differ."""
    return c.failure is not None and not c.comparison.problem


def _dtype_on_grads(c):
    return c.quantity in GRADS and str(c.comparison.problem or "").startswith("dtype")


def finding(checks, source):
    """The probe's Finding from the checks (graded and probe) and the submission's source text.

    The file runs in float64 when every probe passes whose graded twin passes; a probe that fails
    beside a failing twin shows the same error in both dtypes (a real error, not rounding). A probe
    that returns float64 values which differ from torch's runs: only a crash, a missing value or a
    wrong dtype or shape says it does not.
    """
    graded = {c.case.id: c for c in checks if c.case is not None and c.section != "probe"}
    probes = [c for c in checks if c.section == "probe" and c.passed is not None]
    if not probes:
        return _float64_graded(list(graded.values()), source)
    only = [c for c in probes if not c.passed and getattr(graded.get(c.case.twin), "passed", False)]
    both = sum(1 for c in probes if not c.passed) - len(only)
    dtype = _graded_dtype(graded)
    broken = [c for c in only if not _runs(c)]
    if not broken:
        same = (f"; {both} case(s) fail in float64 as in {dtype}: the errors are real, not rounding" if both else "")
        if not only:
            return Finding(True, f"runs in float64: yes, every probe case agrees with its graded verdict{same}")
        first = only[0]
        why = first.comparison.describe("submission", "torch").strip().splitlines()[0]
        return Finding(True, f"runs in float64: yes, but {len(only)} of {len(probes)} cases pass in {dtype} and "
                             f"differ from torch in float64 beyond its allowance: {first.quantity}: {why}{same}")
    flagged = scan(source)
    makers = [f for f in flagged if f.fix != CLEAR_FIX]
    clears = [f for f in flagged if f.fix == CLEAR_FIX]
    crash = next(((c.error or {}).get("line") for c in broken if (c.error or {}).get("line")), None)
    head = f"runs in float64: no ({len(broken)} of {len(probes)} cases pass in {dtype} and fail in float64)"
    at = {f.line: f for f in flagged}
    if crash in at:
        chosen = at[crash]
    elif clears and any(_dtype_on_grads(c) for c in broken if c.comparison is not None):
        # float32 grads handed back: the ones __init__ made, kept by an in-place clear.
        chosen = clears[0]
    elif makers:
        # The float32 tensor is usually made a few lines above where it meets a float64 one.
        before = [f for f in makers if crash is not None and f.line <= crash]
        chosen = before[-1] if before else makers[0]
    else:
        first = broken[0]
        err = first.error or {}
        if err.get("line"):
            return Finding(False, f"{head}: line {err['line']} raises {err.get('type')}: {err.get('message')}",
                           err["line"])
        why = first.comparison.describe("submission", "torch").strip().splitlines()[0] if first.comparison else \
            first.message
        return Finding(False, f"{head}: {first.quantity or 'a value'} differs: {why}")
    others = sorted({f.line for f in flagged} - {chosen.line})
    also = f" (also line{'s' * (len(others) > 1)} {', '.join(map(str, others))})" if others else ""
    return Finding(False, f"{head}: {chosen.said()}{also}", chosen.line)


DTYPE_WORDS = ("dtype", "Float", "Double", "float != double")


def _float64_graded(checks, source):
    """With float64 graded (no probe): name the float32-making line when failures are about dtypes."""
    dtype_failures = [c for c in checks if c.passed is False and c.case.dtype == "float64" and (
        any(w in str((c.error or {}).get("message", "")) for w in DTYPE_WORDS)
        or (c.comparison is not None and str(c.comparison.problem or "").startswith("dtype")))]
    flagged = scan(source) if dtype_failures else []
    if not flagged:
        return Finding(None, "")
    chosen = next((f for f in flagged if f.line == (dtype_failures[0].error or {}).get("line")), flagged[0])
    return Finding(False, f"runs in float64: no ({len(dtype_failures)} cases fail on dtypes): {chosen.said()}",
                   chosen.line)


def _graded_dtype(graded):
    return next((c.case.dtype for c in graded.values()), "float32")
