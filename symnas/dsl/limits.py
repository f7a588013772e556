"""Resource limits for reading and evaluating space files (every file is untrusted input).

Each limit, when exceeded, is a :class:`symnas.dsl.DSLError` at ``file:line:col`` with a hint; none of them is
reached by the ready spaces (the largest uses a few thousand evaluation steps). They are module constants so a
test or a trusted caller may change them (``symnas.dsl.limits.MAX_STEPS = ...``).

Example::

    >>> from symnas.dsl import limits
    >>> limits.MAX_FILE_BYTES
    1000000
"""
from __future__ import annotations

__all__ = ["MAX_FILE_BYTES", "MAX_INT_BITS", "MAX_NUMBER_DIGITS", "MAX_SEQ", "MAX_DEPTH", "MAX_STEPS",
           "DECISION_STEPS", "MAX_CHECK_STEPS", "MAX_SAT_STEPS", "MAX_RESIDUAL_NODES", "MAX_TREE_NODES", "MAX_IMPORTS",
           "MAX_RESOLVE_DEPTH", "SAT_TRIES", "EXACT_LIMIT", "IMPORT_EXTENSIONS"]

MAX_FILE_BYTES = 1_000_000       # size of a space file (and of each imported file)
MAX_INT_BITS = 4096              # any integer value, literal or computed
MAX_NUMBER_DIGITS = 1300         # characters of a number literal (4096 bits have 1234 decimal digits)
MAX_SEQ = 100_000                # items of a list, tuple, range or string value
MAX_DEPTH = 100                  # nesting depth of an expression (brackets, operators, calls)
MAX_RESOLVE_DEPTH = 200          # bindings resolving one another at once (a -> b -> c ...)
MAX_STEPS = 1_000_000            # evaluation steps to load one file (comprehensions count every item)
DECISION_STEPS = 50              # steps one decision constructor call costs (so at most 20,000 per load)
MAX_CHECK_STEPS = 100_000        # evaluation steps of one constraint check or derived value
MAX_SAT_STEPS = 400_000          # evaluation steps of the load-time satisfiability check
MAX_RESIDUAL_NODES = 20_000      # nodes of one derived expression or constraint over decisions
MAX_TREE_NODES = 200_000         # nodes of the space tree handed to Space (lists, dicts, specs, decisions)
MAX_IMPORTS = 64                 # files imported, directly or not, by one file
SAT_TRIES = 2_000                # draws of the load-time satisfiability check before exact enumeration
EXACT_LIMIT = 20_000             # genomes enumerated by the exact satisfiability check
IMPORT_EXTENSIONS = (".sns", ".json", ".pcs", ".yaml", ".yml", ".hydra", ".overrides")
