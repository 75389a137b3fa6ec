"""The sketch engine: a seeded, procedural CPU renderer that turns a prompt into a moving scene.

It is not a neural model. It exists so that OpenReel works anywhere (no GPU, no keys, no
downloads) and so that every other part can be tested against a real backend.
``understand.py`` turns words into a :class:`~openreel.backends.sketch.plan.ScenePlan`;
``render.py`` draws the plan frame by frame; ``backend.py`` wraps both as a VideoBackend.
"""
