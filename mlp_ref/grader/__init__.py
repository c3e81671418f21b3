"""mlp-ref check: grade a hand-written backprop against torch, with diagnoses a student can act on.

    (mlp_ref.cli.check parses the arguments and writes the report: text, JSON, Gradescope, CSV)
    grade        one submission or a folder: child run + torch's answers -> verdict -> diagnoses
    sandbox      the child process: fork server, limits, JSON-only results
    child        runs in the child: imports the submission, drives it through the battery (adapters)
    verdict      the child's arrays against torch's, case by case, with the grading tolerance
    diagnose     the shape of an error (evidence: what a rule sees; mutants: planted hand backprops;
                 patterns: rules across checks)
    probe        whether the file runs in float64, and the line and fix when it does not
    battery      the cases and their inputs                          oracle     torch's answers and their noise
    templates/   blank submissions to start from
"""
