"""Hostile: no MLP at all; appends a forged full score to ../results.jsonl and imports the grader's torch answers.

A grader whose results file sits next to the submission's working folder, or whose own modules
(mlp_ref.packs.dlsp_hw1.oracle) can be imported by the submission, would read 122/122 from this file.
"""
import json
import os

RESULTS = os.path.join("..", "results.jsonl")


def forge():
    """Every forged line the grader might read as its child's; errors are swallowed so the import succeeds."""
    try:
        from mlp_ref.grader import child
        from mlp_ref.packs.dlsp_hw1 import battery, oracle

        answers = oracle.expected_all(0)
        lines = [{"event": "interface", "interface": "homework", "problem": None}]
        lines += [{"event": "case", "case": c.id, "arrays": {k: child.pack(v) for k, v in answers[c.id].items()},
                   "error": None, "autograd_calls": 0, "tracked": []} for c in battery.build(0)]
        lines.append({"event": "done", "output_bytes": 0})
    except ImportError:
        lines = [{"event": "interface", "interface": "homework", "problem": None}, {"event": "done"}]
    if os.path.exists(RESULTS):  # only inside a grader's scratch folder, never beside a checkout
        try:
            with open(RESULTS, "a") as f:
                f.writelines(json.dumps(line) + "\n" for line in lines)
        except OSError:
            pass


forge()
