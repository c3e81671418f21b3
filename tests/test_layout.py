"""The package's shape: the command-line layer sits on top, nothing imports back up into it, and the
internal imports form no cycle. Read from the source with ast, so a lazy import inside a function
counts too."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mlp_ref"


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def internal_imports(path):
    """Every mlp_ref module this file imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("mlp_ref")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("mlp_ref"):
            found.add(node.module)
            # `from mlp_ref.grader import battery` imports the submodule mlp_ref.grader.battery.
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def graph():
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py") if "templates" not in p.parts}
    return {name: {m for m in internal_imports(path) if m in modules and m != name} for name, path in modules.items()}


def find_cycle(edges):
    """One import cycle as a list of modules, or None. Package __init__ edges to their own submodules
    are left out: importing a package runs its __init__, which is not a dependency of the submodule."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_engine_imports_the_command_line_layer():
    offenders = {m: sorted(i for i in imps if i.startswith("mlp_ref.cli"))
                 for m, imps in graph().items() if not m.startswith("mlp_ref.cli")}
    assert {m: i for m, i in offenders.items() if i} == {}


def below_the_packs(edges):
    """{module: [the mlp_ref.packs modules it imports]} for every module below the packs (all but the command
    line, the packs and the HTML pages beside them): the engine is handed a pack, never imports one (nor the
    registry that finds them)."""
    above = ("mlp_ref.cli", "mlp_ref.packs", "mlp_ref.pages")
    offenders = {m: sorted(i for i in imps if i == "mlp_ref.packs" or i.startswith("mlp_ref.packs."))
                 for m, imps in edges.items() if not any(m == a or m.startswith(a + ".") for a in above)}
    return {m: i for m, i in offenders.items() if i}


def test_the_engine_imports_no_pack():
    assert below_the_packs(graph()) == {}


def test_the_pack_rule_finds_a_planted_import():
    """Negative control: an engine module importing a pack (or the registry) is reported; the command line
    and a pack importing the engine are not."""
    planted = {"mlp_ref.grader.gradescope": {"mlp_ref.packs.dlsp_hw1.battery", "mlp_ref.grader.config"},
               "mlp_ref.grader.config": {"mlp_ref.packs"},
               "mlp_ref.cli.check": {"mlp_ref.packs.dlsp_hw1.grade"},
               "mlp_ref.packs.dlsp_hw1.grade": {"mlp_ref.grader.sandbox"}}
    assert below_the_packs(planted) == {"mlp_ref.grader.gradescope": ["mlp_ref.packs.dlsp_hw1.battery"],
                                        "mlp_ref.grader.config": ["mlp_ref.packs"]}


def test_the_internal_imports_have_no_cycle():
    assert find_cycle(graph()) is None


def test_the_cycle_finder_finds_a_planted_cycle():
    """Negative control: a -> b -> c -> a is reported, a package importing its own child is not."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"p": {"p.x"}, "p.x": set()}) is None


@pytest.mark.parametrize("variable", ["OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY"])
def test_the_thread_variables_are_spelled_out_in_one_python_module(variable):
    spelled = [p.relative_to(PACKAGE.parent).as_posix() for p in PACKAGE.rglob("*.py")
               if f'"{variable}"' in p.read_text() or f"'{variable}'" in p.read_text()]
    assert spelled == ["mlp_ref/env.py"]


def test_every_activation_name_comes_from_the_one_table():
    """The twin, the grader, explain and the demos use functional.ACTIVATIONS' names; each module
    that writes a formula of its own (explain's Jacobians, the grader's mutants) covers them."""
    import numpy as np
    from torch import nn

    from mlp_ref import functional
    from mlp_ref.demos import activations
    from mlp_ref.explain.derivation import activation_jacobian
    from mlp_ref.packs.dlsp_hw1 import battery, mutants
    from mlp_ref.twin import activation_module

    names = set(functional.ACTIVATIONS)
    assert set(functional.HIDDEN_ACTIVATIONS) | {"softmax"} == names
    for name, spec in functional.ACTIVATIONS.items():
        assert isinstance(activation_module(name), getattr(nn, spec.torch_module))
        assert activation_jacobian(name, np.zeros(2), np.full(2, 0.5)).shape == (2, 2)
    assert set(battery.ACTIVATIONS) <= names and set(mutants.RIGHT) == set(battery.ACTIVATIONS)
    assert tuple(activations.NAMES) == functional.HIDDEN_ACTIVATIONS
