"""Python 2 names, as Python 3 spells them."""
xrange = range
