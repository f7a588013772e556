"""The bottom layer: placeholders, specs, the ``sn.nn`` layer specs, tree edits and JSON.

Nothing here imports another symnas package except :mod:`symnas.errors`; every layer above (genome, candidate,
space, ...) builds on these values. See README, "How it fits together", for the whole order.
"""
