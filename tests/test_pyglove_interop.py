"""PyGlove underneath: spaces convert both ways and genomes map to PyGlove DNA of the same candidate."""
from __future__ import annotations

import pyglove as pg
from hypothesis import given, settings
from hypothesis import strategies as st

import symnas as sn
from symnas.space.pyglove import dna_to_genome, from_pyglove, genome_to_dna, to_pyglove

SPACE = sn.Space({
    "a": sn.oneof([{"x": sn.oneof([1, 2, 3])}, {"y": sn.floatv(0.1, 1.0), "z": sn.oneof(["u", "v"])}]),
    "b": sn.intv(2, 8, step=2),
    "c": sn.manyof(2, ["p", "q", "r"], sorted=True),
    "lr": sn.floatv(1e-4, 1e-1, scale="log"),
})
PG_SPACE = to_pyglove(SPACE.tree)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_pyglove_materialises_the_same_candidate(seed: int) -> None:
    g = SPACE.sample(seed=seed)
    dna = genome_to_dna(SPACE, g)
    assert dict(pg.materialize(PG_SPACE, dna)) == SPACE.decode(g)
    assert dna_to_genome(SPACE, dna) == g


def test_pyglove_space_runs_on_symnas() -> None:
    pg_space = pg.Dict(x=pg.oneof([1, 2, pg.Dict(k=pg.oneof([3, 5]))]), lr=pg.floatv(1e-3, 1e-1, scale="log"),
                       ops=pg.manyof(2, ["a", "b", "c"], sorted=True))
    space = sn.Space(from_pyglove(pg_space))
    assert [d.kind for d in space.decisions] == ["choice", "choice", "float", "subset"]
    assert space.size == float("inf")
    finite = pg.Dict(x=pg.oneof([1, 2, pg.Dict(k=pg.oneof([3, 5]))]), ops=pg.manyof(2, ["a", "b", "c"], sorted=True))
    assert sn.Space(from_pyglove(finite)).size == pg.dna_spec(finite).space_size == 4 * 3
    for s in range(20):
        g = space.sample(seed=s)
        assert dict(pg.materialize(pg_space, genome_to_dna(space, g))) == space.decode(g)
