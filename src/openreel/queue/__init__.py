"""Queue: hands queued jobs to workers and keeps their leases alive.

The ``jobs`` table is the queue's only storage (DESIGN.md, "Jobs, queue and scale"): a
worker claims a row with a lease, renews it while it works, and a row whose lease ran out
goes back to the queue. ``base`` holds what every implementation shares (the ``JobQueue``
and ``JobRunner`` protocols, the ``Lease`` a runner works under, ``LeaseLostError``);
``embedded`` runs worker threads inside the server process, for one machine on SQLite.

Nothing here knows how a video is made: the runner passed to ``JobQueue.start`` (from
services) does that, and completes or fails the job through the store.

Imports: storage, domain, errors, config. Never services, api, cli or backends.
"""
