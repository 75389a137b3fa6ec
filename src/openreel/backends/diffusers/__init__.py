"""Local open video models through Hugging Face diffusers (the ``local`` extra).

``catalogue.py`` reads which models exist (``catalogue.toml``); ``plan.py`` decides how a
request is made from one; ``frames.py`` normalises frame counts, chains segments,
interpolates and scales (numpy and OpenCV only); ``loader.py`` imports torch and diffusers
lazily, picks the device and keeps one pipeline warm; ``backend.py`` is the VideoBackend.
Importing this package, the catalogue or the backend imports neither torch nor diffusers.
"""
