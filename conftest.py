"""Test-session set-up: mlp_ref.env puts the thread variables in the environment before numpy or
torch loads (see that module for why)."""
import mlp_ref.env  # noqa: F401
