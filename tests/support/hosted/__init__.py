"""Scripted fakes of every hosted provider's API (each from its own SDK and docs), the table
that wires each to its real backend, and the fake clock their tests run on."""
