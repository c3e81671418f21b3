"""Test-session set-up: the thread variables must be in the environment before numpy or torch loads.

numpy's OpenBLAS threads and torch's OpenMP threads otherwise keep spinning after each call, and
the tests alternate the two libraries on 2 cores, which slows both 2.5-15x.
"""
import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
