"""Hosted providers behind the VideoBackend protocol: one module a provider, one shared loop."""
