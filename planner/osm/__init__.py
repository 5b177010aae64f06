"""Reading OpenStreetMap: the walk filter's tag rules, the Overpass download, and the facilities
and residences of an OSM file.

This package sits low in the import order (next to `planner.standards`): nothing here builds a
`planner.network.Network`. See docs/ARCHITECTURE.md.
"""
