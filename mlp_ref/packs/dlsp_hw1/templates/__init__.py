"""Blank submissions a student starts from (`mlp-ref check --template homework|numpy`)."""
from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent
