"""Merging the countries' parks into one coverage and the proposed park (any number of countries).

The stage, by job: :mod:`geo.merge.clip` (parks cut to their country's land, ground across a
border), :mod:`geo.merge.snap` (edges snapped onto the border), :mod:`geo.merge.coverage`
(overlaps and narrow gaps), :mod:`geo.merge.overlaps` (each shared piece to one park) and
:mod:`geo.merge.parks` (the combined, per-country and proposed layers; :func:`merge_parks`),
on the shared helpers of :mod:`geo.overlay.ops`.
"""

from geo.merge.clip import clip_to_land
from geo.merge.coverage import check_coverage
from geo.merge.overlaps import IUCN_PRIORITY, resolve_overlaps
from geo.merge.parks import (
    MergeResult,
    combine_parks,
    dissolve_by_country,
    merge_parks,
    proposed_park,
    shared_edge,
    shared_edges_by_pair,
)
from geo.merge.snap import snap_to_border
from geo.overlay.land import CLIP_NOISE_HA, WRONG_SIDE_FRACTION, wrong_side
from geo.overlay.ops import GAP_WIDTH_M, SNAP_TOLERANCE_M

__all__ = [
    "CLIP_NOISE_HA",
    "GAP_WIDTH_M",
    "IUCN_PRIORITY",
    "MergeResult",
    "SNAP_TOLERANCE_M",
    "WRONG_SIDE_FRACTION",
    "check_coverage",
    "clip_to_land",
    "combine_parks",
    "dissolve_by_country",
    "merge_parks",
    "proposed_park",
    "resolve_overlaps",
    "shared_edge",
    "shared_edges_by_pair",
    "snap_to_border",
    "wrong_side",
]
