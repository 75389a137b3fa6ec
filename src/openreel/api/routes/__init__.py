"""One module per resource: videos, models, files, events, health."""
