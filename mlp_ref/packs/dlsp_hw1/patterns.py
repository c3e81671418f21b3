"""Pattern rules: diagnoses read across all checks of a submission, not from one check alone.

Each rule takes the checks (already carrying the per-check diagnoses) and returns findings
(check index, diagnosis id, evidence); diagnose.diagnose applies them.
"""
GRADS = ("dW1", "db1", "dW2", "db2")
SHAPE_ERRORS = ("shapes cannot be multiplied", "must match the size of tensor", "could not be broadcast",
                "size mismatch", "not aligned", "mismatch in its core dimension")


def _relabel_split(checks):
    if not any(c.diagnosis == "split_mean_reduction" for c in checks):
        return []
    return [(i, "split_mean_reduction", c.evidence.split(":")[0] + " here, while end to end every gradient "
             "agrees with torch's: the factor is undone in the other half")
            for i, c in enumerate(checks)
            if c.diagnosis == "not_mean_reduced" and c.section in ("loss", "backward", "edge")]


def _relabel_matmul_crashes(checks):
    if not any(c.diagnosis == "matmul_for_elementwise" for c in checks):
        return []
    found = []
    for i, c in enumerate(checks):
        err = c.error or {}
        if c.passed is False and c.diagnosis is None and err.get("stage") == "backward" \
                and any(s in err.get("message", "") for s in SHAPE_ERRORS):
            found.append((i, "matmul_for_elementwise", "the same bug crashes here, where the sizes differ: "
                          + err["message"]))
    return found


def _missing_branch(checks):
    """Failures that are exactly the f/g combinations using one activation, unexplained otherwise."""
    grid = [c for c in checks if c.case is not None and c.case.kind in ("train", "backward")
            and c.section in ("end-to-end", "backward") and c.passed is not None]
    failing = {id(c) for c in grid if not c.passed}
    if not failing or len(failing) == len(grid):
        return []
    for act in ("relu", "sigmoid", "identity"):
        for where, uses in (("f", lambda c: c.case.f == act), ("g", lambda c: c.case.g == act),
                            ("f or g", lambda c: act in (c.case.f, c.case.g))):
            users = {id(c) for c in grid if uses(c)}
            if users != failing:
                continue
            unexplained = [i for i, c in enumerate(checks) if c.passed is False and c.case is not None
                           and act in (c.case.f, c.case.g) and c.diagnosis in (None, "non_finite")]
            if len(unexplained) < len(failing) // 2:
                return []
            evidence = (f"all {len(failing)} f/g combinations with {where} = {act} fail and all "
                        f"{len(grid) - len(failing)} others pass")
            return [(i, "missing_activation_branch", evidence) for i in unexplained]
    return []


def _confident(c):
    return c.case is not None and c.case.why.startswith("confident")


def _bce_only_when_confident(checks):
    """BCE fails on the confident cases and nowhere else: a clamp or eps near 0/1, even without dJdy_hat."""
    bce = [c for c in checks if c.case is not None and c.case.loss == "bce" and c.section not in ("robustness",)
           and c.passed is not None]
    failing = [c for c in bce if c.passed is False]
    clamped = any(c.diagnosis == "bce_clamped" for c in failing)
    if not failing or not (clamped or all(_confident(c) for c in failing)):
        return []
    evidence = ("the BCE cases with y_hat within 1e-3 of 0 or 1 fail" + (" and the rest pass" if all(
        _confident(c) for c in failing) else ", and the same eps or clamp moves this one"))
    return [(i, "bce_clamped", evidence) for i, c in enumerate(checks)
            if c in failing and c.diagnosis is None and c.quantity in ("J", "dJdy_hat", *GRADS)]


def _from_the_probe(checks):
    """A graded failure with no diagnosis takes the one its float64 probe got, where the probe failed the same way."""
    probes = {c.case.twin: c for c in checks if c.case is not None and c.case.twin}
    found = []
    for i, c in enumerate(checks):
        twin = probes.get(c.case.id) if c.case is not None else None
        if c.passed is False and c.diagnosis is None and twin is not None and twin.diagnosis:
            found.append((i, twin.diagnosis, "seen in the float64 probe of this case: " + twin.evidence))
    return found


PATTERN_RULES = (_relabel_split, _relabel_matmul_crashes, _missing_branch, _bce_only_when_confident, _from_the_probe)
