"""Media: encoding frames to H.264 MP4, previews (thumbnail, spritesheet) and probing files.

Imports: domain, errors, numpy, PyAV, Pillow, OpenCV. Never api, services, queue or backends.
"""
