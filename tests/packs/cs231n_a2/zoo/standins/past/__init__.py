"""Stands in for the future package's past/, which the course's files import for xrange."""
