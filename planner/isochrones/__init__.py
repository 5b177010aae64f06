"""Walking isochrones that contain only what is reachable: reached street pieces, buffered.

For every point and band (5, 10, 15 minutes by default), an edge of the walking network is reached
wholly or partly: the budget left at each of its end nodes is walked in along the edge's real
geometry, a piece from each end, and the whole edge when the two pieces meet. The point's own edge
is walked from its snapped position in both directions, after the straight access leg (which is
walked, and drawn, too). The reached pieces are buffered by ``buffer_m`` and unioned; holes (blocks
whose inside is farther than ``buffer_m`` from every reached street) stay holes. Never a convex
hull. All bands of a point come from one shortest-path pass (the largest band as the cutoff).

Speed. Unioning thousands of overlapping buffers is what makes this slow elsewhere. Here the union
of the wholly reached edges is assembled from a lazily memoised binary k-d tree of partial unions
of the edges' buffers: the reached set is covered by the largest subtrees that are wholly reached,
so only those few hundred cover polygons and the buffers of the partly reached pieces are unioned
per isochrone, and the subtree unions are reused by every later isochrone on the same network
(cached while the network object lives). The result is the same point set as unioning every
piece's buffer: union is associative. Only the edges at reached nodes are classified, so the
work follows the band, not the size of the network. The polygons of different points are drawn
in threads (``workers``; GEOS releases the GIL). Measured (``bench/RESULTS.md``, per 15-minute
isochrone): 27.5 ms CPU on central Helsinki (16.8 ms wall on 2 cores; the plain union: 200 ms;
OSMnx's recipe: 1.15 s), 3.4 ms on Andorra. Valhalla is faster (6.0 and 1.2 ms) with a coarse raster
whose polygons miss reachable streets (mean recall 97.5 % and 85 %, against our 100 %). What
remains is GEOS overlay work along the reached/unreached frontier.

``method="concave"`` draws the concave hull (shapely/GEOS) of the reached pieces' vertices,
buffered by ``buffer_m``: a smoother shape, but the hull's straight chords cut off reachable
streets and fill some unreachable land. Measured on 15-minute isochrones (``bench/RESULTS.md``):
recall 99.6 % on average but down to 98.9 % on Helsinki and 89.5 % on Andorra, where the exact
``"edges"`` method keeps 100 % recall and 0 % false inclusion.

Accuracy is measured by `score_isochrone`: points sampled along every edge, their exact walk from
the isochrone's source computed by the distance engine, recall and false inclusion counted.

The package: `planner.isochrones.build` (`isochrones`, its options), `planner.isochrones.reach`
(what a walk reaches: `reached_pieces`), `planner.isochrones.score` (`score_isochrone`),
`planner.isochrones._union` (the large-union cascade and the k-d union tree) and
`planner.isochrones._prepare` (per-network caches). The attribute ``planner.isochrones`` is the
function (``planner.isochrones(network, points)``), as it always was; the package and its modules
are reached with ``from planner.isochrones import ...``, ``from planner.isochrones.build import
...`` or ``importlib.import_module("planner.isochrones")`` (not ``import planner.isochrones.build
as m``, which looks the name up on the function). See ``docs/ARCHITECTURE.md``.
"""

from planner.isochrones.build import DEFAULT_QUAD_SEGS, METHODS, isochrones
from planner.isochrones.reach import reached_pieces
from planner.isochrones.score import IsochroneScore, score_isochrone
from planner.schema import DEFAULT_MINUTES

__all__ = [
    "DEFAULT_MINUTES",
    "DEFAULT_QUAD_SEGS",
    "METHODS",
    "IsochroneScore",
    "isochrones",
    "reached_pieces",
    "score_isochrone",
]
