"""Media: encoding frames to H.264 MP4, previews (thumbnail, spritesheet) and probing files."""
