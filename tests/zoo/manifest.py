"""What the grader must say about each submission in the zoo, and why.

EXPECTED[name] is {"passed": True} | {"passed": False, "diagnosis": id} | {"passed": False, "contained": outcome},
the verdict of `mlp-ref check` in its default mode (robustness reported, not failing).
EXPECTED_STRICT holds only the entries whose verdict changes under --strict.
WHY[name] is the one-line reason; BASE[name] the correct submission a buggy one was copied from.
Ids and outcomes are the shared vocabulary of /work/notes/GRADER_CONTRACT.md.
"""

EXPECTED = {
    "correct_vectorised.py": {"passed": True},
    "correct_loops.py": {"passed": True},
    "correct_einsum.py": {"passed": True},
    "correct_autograd_imported.py": {"passed": True},
    "correct_numpy.py": {"passed": True},
}

EXPECTED_STRICT = {
    "correct_loops.py": {"passed": False, "diagnosis": "non_finite"},
}

WHY = {
    "correct_vectorised.py": "whole-batch torch ops, torch's BCE clamps: matches torch everywhere",
    "correct_loops.py": "per-sample outer products, hand-written sigmoid; its unclamped BCE log gives inf "
                        "on saturated outputs (robustness only)",
    "correct_einsum.py": "einsum, accumulates into grads torch-style and clears them in clear_grad_and_cache",
    "correct_autograd_imported.py": "imports torch.autograd.grad but never calls it: not a violation",
    "correct_numpy.py": "the NumPy five-stage interface, written without mlp_ref",
}

BASE = {}
