"""`mlp-ref explain`'s engine: the chain rule laid out as explicit Jacobian products.

    derivation.py   the problem, the forward pass, every Jacobian factor and the three-way check
    input.py        the JSON a student types in, checked key by key, and their own numbers ('mine')
    hints.py        a departing number that equals a known slip (sigmoid' at the output, a transpose, ...)
"""
