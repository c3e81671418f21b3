"""The command-line layer: parses arguments, calls one engine, prints, and sets the exit code.

    main.py      the `mlp-ref` entry point and its subcommand table
    parity.py    check.py    explain.py    demo.py     one module per subcommand
    output.py    strict JSON and the one way refusals are printed

Engines never parse arguments or print; nothing below this package imports it.
"""
