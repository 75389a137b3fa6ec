"""Queue: hands queued jobs to workers and keeps their leases alive.

The ``jobs`` table is the queue's only storage: a worker claims a row with a lease, renews it
while it works, and a row whose lease ran out goes back to the queue. ``contract`` is what the
services see (the ``JobQueue`` and ``JobRunner`` protocols), ``lease`` the hold a runner works
under, ``reservation`` the early start, ``run`` how every worker runs a claimed job,
``keeper`` batched leases; ``embedded`` runs worker threads inside the server process and
``celery`` hands jobs to ``openreel worker`` processes on other machines.

Nothing here knows how a video is made: the runner passed to ``JobQueue.start`` (from the
services) does that, and completes or fails the job through the store.
"""
