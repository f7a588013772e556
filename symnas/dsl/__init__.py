"""symnas's search-space language (``.sns`` files): load, print, inspect and convert spaces.

A space file compiles to the same :class:`symnas.Space` trees as the Python placeholders, so every algorithm,
hash and store works on it unchanged; :func:`dumps` prints any space back (``loads(dumps(s)) == s``).

Example::

    import symnas.dsl as dsl
    space = dsl.loads('''
        kernel = choice(3, 5, 7)
        build torch.nn.Conv2d(in_channels=3, out_channels=16, kernel_size=kernel)
    ''')
    print(dsl.dumps(space))
    nb201 = dsl.load("nasbench201")          # a ready space from symnas/spaces
"""
from symnas.dsl.api import builtin_spaces, convert, dumps, inspect, load, loads
from symnas.dsl.errors import DSLError

__all__ = ["load", "loads", "dumps", "inspect", "builtin_spaces", "convert", "DSLError"]
