"""One module per resource: videos, events, models, files, usage, webhooks, session, admin,
artists, provenance, studio and health, each a router that ``api.app.create_app`` includes."""
