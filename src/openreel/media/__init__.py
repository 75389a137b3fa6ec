"""Media: pictures and video files, shared by the backends, the services and storage.

Encoding frames to H.264 MP4, probing files, previews (thumbnail, spritesheet), the visible
label, C2PA signing, content fingerprints, cover-and-crop scaling (``fit``) and the one naming
of files still being written (``partial``).
"""
