"""The grading engine, shared by every assignment pack and knowing none: it is handed a pack.

    (mlp_ref.cli parses the arguments, looks the pack up by name in mlp_ref.packs and hands it over)
    sandbox      the child process: fork server, limits, JSON-only results
    child        runs in the child: limits and guards, then the pack's runner ("module:function")
    guards       what the child's submission cannot do: autograd, the grader's modules, root, escape
    verdict      the verdict model: a Check, an array against the oracle's under the grading tolerance, headroom
    config       assignment.toml: its pack's name, points and visibility of the sections the pack has
    submission   which file of a submission is graded; notebook: an .ipynb as a module; integrity: flags
    results      Gradescope's and PrairieLearn's results.json from a report's units
    classreport  a class: progress, histogram, diagnoses, and the per-unit pass-rate table
    autograder   the zip a course platform runs (Gradescope, PrairieLearn)
"""
