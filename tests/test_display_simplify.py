"""The display simplification's kernel: a tolerance per face, and tightening redone only around the changed faces."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from benchmarks.datagen import coverage
from geo.render.simplify import TOLERANCES_DEG, _display_geometries, _geodesic_ha, refine_faces, simplify_faces


@pytest.fixture(scope="module")
def parks() -> np.ndarray:
    """A few hundred adjoining parks with winding shared edges (a valid coverage)."""
    geoms = np.asarray(coverage(300, edge_vertices=8).geometry.values, dtype=object)
    assert shapely.coverage_is_valid(geoms)
    return geoms


def test_refining_a_few_faces_redoes_only_their_neighbourhood(parks):
    level = np.full(len(parks), 2)
    simple = simplify_faces(parks, level)
    changed = np.array([10, 11, 150])
    finer = level.copy()
    finer[changed] = 5
    tree = shapely.STRtree(parks)
    refined = refine_faces(parks, simple, finer, changed, tree)
    assert refined is not None
    assert shapely.is_valid(refined).all()
    assert shapely.coverage_is_valid(refined)
    near = np.unique(tree.query(parks[changed])[1])
    far = np.setdiff1d(np.arange(len(parks)), near)
    assert all(refined[i] is simple[i] for i in far)  # left alone, not done again
    # the changed faces now keep more of their outline, and their neighbours follow along the shared edges
    assert (shapely.get_num_coordinates(refined[changed]) > shapely.get_num_coordinates(simple[changed])).all()
    for i in changed:
        for j in near:
            if i != j and shapely.intersects(parks[i], parks[j]):
                shared = shapely.intersection(shapely.boundary(refined[i]), shapely.boundary(refined[j]))
                assert shapely.get_dimensions(shared) <= 1
    # same as doing everything again, up to the order in which edges were simplified: close areas
    again = simplify_faces(parks, finer)
    assert np.allclose(shapely.area(refined[changed]), shapely.area(again[changed]), rtol=1e-3)


def test_refining_gives_up_when_a_neighbour_cannot_be_rebuilt(parks):
    level = np.zeros(len(parks), dtype=int)
    simple = simplify_faces(parks, level)
    tree = shapely.STRtree(parks)
    broken = simple.copy()
    broken[tree.query(parks[[5]])[1]] = shapely.box(0, 0, 1, 1)  # not a simplification of those faces
    finer = level.copy()
    finer[5] = 4
    assert refine_faces(parks, broken, finer, np.array([5]), tree) is None


def test_display_of_a_coverage_keeps_every_guarantee(parks):
    true_ha = _geodesic_ha(parks)
    tolerance, grid, geoms, error = _display_geometries(list(parks), true_ha, np.zeros(len(parks), int), 0.005)
    shown = np.asarray(geoms, dtype=object)
    assert tolerance in TOLERANCES_DEG and grid > 0
    assert shapely.is_valid(shown).all()
    assert shapely.coverage_is_valid(shown)
    measured = np.abs(_geodesic_ha(shown) / true_ha - 1)
    assert measured.max() <= 0.005
    assert error == pytest.approx(measured.max(), rel=1e-9)
    assert shapely.get_num_coordinates(shown).sum() < 0.7 * shapely.get_num_coordinates(parks).sum()


def test_halves_on_two_threads_stay_one_valid_coverage(parks, monkeypatch):
    """A coverage above PARALLEL_VERTICES is simplified as two halves at once, then their seam: still one coverage."""
    import threading

    from geo.render import simplify

    if len(__import__("os").sched_getaffinity(0)) < 2:
        pytest.skip("one core: the halves run one after the other")
    monkeypatch.setattr(simplify, "PARALLEL_VERTICES", 1_000)
    threads: list[str] = []
    plain = simplify.simplify_faces

    def recording(faces, face_level, filler=None):
        threads.append(threading.current_thread().name)
        return plain(faces, face_level, filler)

    monkeypatch.setattr(simplify, "simplify_faces", recording)
    rng = np.random.default_rng(1)
    level = rng.integers(0, 3, len(parks))  # several levels side by side
    halves = simplify.simplify_in_halves(parks, level, shapely.STRtree(parks))
    assert len({t for t in threads if t != threading.main_thread().name}) == 2  # two halves, two threads
    assert shapely.is_valid(halves).all()
    assert shapely.coverage_is_valid(halves)
    whole = plain(parks, level)
    assert np.allclose(shapely.area(halves), shapely.area(whole), rtol=2e-3)  # the seam is simplified too
    # the edges between the halves are simplified too (left whole, they would keep about 3 % more vertices)
    assert shapely.get_num_coordinates(halves).sum() <= 1.01 * shapely.get_num_coordinates(whole).sum()
