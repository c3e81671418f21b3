"""The float64 probe's finding: does the submission run in float64, and if not, which line and what fix.

A correct float32 submission may make helper tensors in torch's default dtype (torch.ones(n) to sum a
bias gradient, (z > 0).float() as a ReLU mask, a numpy round trip); in float64 those crash or hand
back float32. The probe never costs points (unless --strict); its finding tells the student where
the file is tied to float32. The line comes from the probe's own traceback when that line makes a
default-dtype tensor, else from a static scan of the source (parsed, never run, here in the grader).
"""
import ast
from typing import NamedTuple, Optional

# torch constructors that make a default-dtype (float32) tensor unless given dtype=, and the fix for each.
CONSTRUCTORS = {
    "ones": "pass dtype=x.dtype or use .sum(0)", "zeros": "pass dtype=x.dtype or use torch.zeros_like",
    "empty": "pass dtype=x.dtype or use torch.empty_like", "full": "pass dtype=x.dtype or use torch.full_like",
    "arange": "pass dtype=x.dtype", "eye": "pass dtype=x.dtype", "rand": "pass dtype=x.dtype",
    "randn": "pass dtype=x.dtype", "linspace": "pass dtype=x.dtype", "tensor": "pass dtype=x.dtype",
    "Tensor": "use torch.tensor(..., dtype=x.dtype)", "FloatTensor": "use torch.tensor(..., dtype=x.dtype)",
}
FLOAT32_NAMES = ("float32", "float", "single")
MAX_SOURCE = 1 << 20  # a larger file is not scanned


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


def _flag(call):
    """The fix for a call that makes a float32 tensor whatever its inputs' dtype, else None."""
    f = call.func
    if not isinstance(f, ast.Attribute):
        return None
    kwargs = {k.arg: k.value for k in call.keywords}
    if "dtype" in kwargs:
        return "pass dtype=x.dtype" if _names_float32(kwargs["dtype"]) else None
    if isinstance(f.value, ast.Name) and f.value.id == "torch" and f.attr in CONSTRUCTORS:
        return CONSTRUCTORS[f.attr]
    if f.attr == "float" and not call.args:
        return "use .to(x.dtype)"
    if f.attr in ("to", "type", "astype") and call.args and _names_float32(call.args[0]):
        return "convert to x.dtype instead"
    return None


def scan(source):
    """[(line, code, fix)] for every call outside __init__ that makes a float32 tensor, in line order."""
    if len(source) > MAX_SOURCE:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    skip = set()
    for node in ast.walk(tree):
        # __init__'s tensors are the parameters and grads the grader replaces before every case.
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            skip |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in skip:
            fix = _flag(node)
            if fix:
                code = (ast.get_source_segment(source, node) or "").replace("\n", " ")
                out.append((node.lineno, code[:60], fix))
    return sorted(set(out))


def finding(checks, source):
    """The probe's Finding from the checks (graded and probe) and the submission's source text.

    The file runs in float64 when every probe passes whose graded twin passes; a probe that fails
    beside a failing twin shows the same error in both dtypes (a real error, not rounding).
    """
    graded = {c.case.id: c for c in checks if c.case is not None and c.section != "probe"}
    probes = [c for c in checks if c.section == "probe" and c.passed is not None]
    if not probes:
        return _float64_graded(list(graded.values()), source)
    only = [c for c in probes if not c.passed and getattr(graded.get(c.case.twin), "passed", False)]
    both = sum(1 for c in probes if not c.passed) - len(only)
    if not only:
        same = (f"; {both} case(s) fail in float64 as in {_graded_dtype(graded)}: the errors are real, not rounding"
                if both else "")
        return Finding(True, f"runs in float64: yes, every probe case agrees with its graded verdict{same}")
    flagged = scan(source)
    lines = {line: (code, fix) for line, code, fix in flagged}
    crash = next(((c.error or {}).get("line") for c in only if (c.error or {}).get("line")), None)
    head = f"runs in float64: no ({len(only)} of {len(probes)} cases pass in {_graded_dtype(graded)} and fail in float64)"
    if crash in lines:
        line, (code, fix) = crash, lines[crash]
    elif flagged:
        # The float32 tensor is usually made a few lines above where it meets a float64 one.
        before = [f for f in flagged if crash is not None and f[0] <= crash]
        line, code, fix = before[-1] if before else flagged[0]
    else:
        first = only[0]
        err = first.error or {}
        if err.get("line"):
            return Finding(False, f"{head}: line {err['line']} raises {err.get('type')}: {err.get('message')}",
                           err["line"])
        why = first.comparison.describe("submission", "torch").strip().splitlines()[0] if first.comparison else \
            first.message
        return Finding(False, f"{head}: {first.quantity or 'a value'} differs: {why}")
    others = sorted({n for n, _, _ in flagged} - {line})
    also = f" (also line{'s' * (len(others) > 1)} {', '.join(map(str, others))})" if others else ""
    return Finding(False, f"{head}: line {line} makes a float32 tensor with {code}; {fix}{also}", line)


DTYPE_WORDS = ("dtype", "Float", "Double", "float != double")


def _float64_graded(checks, source):
    """With float64 graded (no probe): name the float32-making line when failures are about dtypes."""
    dtype_failures = [c for c in checks if c.passed is False and c.case.dtype == "float64" and (
        any(w in str((c.error or {}).get("message", "")) for w in DTYPE_WORDS)
        or (c.comparison is not None and str(c.comparison.problem or "").startswith("dtype")))]
    flagged = scan(source) if dtype_failures else []
    if not flagged:
        return Finding(None, "")
    line, code, fix = next((f for f in flagged if f[0] == (dtype_failures[0].error or {}).get("line")), flagged[0])
    return Finding(False, f"runs in float64: no ({len(dtype_failures)} cases fail on dtypes): line {line} makes a "
                          f"float32 tensor with {code}; {fix}", line)


def _graded_dtype(graded):
    return next((c.case.dtype for c in graded.values()), "float32")
