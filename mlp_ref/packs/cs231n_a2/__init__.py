"""The pack for Stanford CS231n's assignment 2 (fully connected nets, batch and layer norm, dropout,
optimizers): a student's `cs231n/` package graded unit by unit against torch.

interface (units, signatures, sections), variants (the years' conventions), reference (the course's
conventions on mlp_ref.functional), cases, oracle (torch's answers), runner (the child's side), bugs
(diagnoses and their mutants), dropout (what a random mask determines), grade, submission (folders and
zips), templates.
"""
from mlp_ref.packs import Pack
from mlp_ref.packs.cs231n_a2 import grade, submission, templates, variants
from mlp_ref.packs.cs231n_a2.interface import SECTIONS

PACK = Pack(
    name="cs231n-a2",
    title="Stanford CS231n assignment 2: fully connected nets, batch/layer norm, dropout, optimizers",
    sections=SECTIONS,
    grade=grade.grade,
    discover=submission.discover,
    templates=dict(templates.WRITERS),
    variants=variants.DESCRIBE,
    detect_variant=variants.detect,
)
