"""The things in a scene, drawn as clean vector silhouettes that move plausibly.

Each subject is defined in its own local coordinates (``shapes.py``), placed in the world on a
layer with a depth, and redrawn every frame as a few anti-aliased polygons; motion is a pure
function of time, so frames are repeatable. Drawers live in one module per kind of thing
(vehicles, animals, people, buildings, plants, celestial bodies); ``registry.py`` maps each
subject kind to its drawer.
"""

from __future__ import annotations

from openreel.backends.sketch.subjects.registry import make_subjects
from openreel.backends.sketch.subjects.stage import Stage, SubjectDrawer

__all__ = ["Stage", "SubjectDrawer", "make_subjects"]
