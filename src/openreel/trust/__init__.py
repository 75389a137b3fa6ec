"""The trust layer: who may ask (tokens, sessions), how much (quotas, rate limits), whether at
all (kill switch, moderation, artists' opt-outs, abuse signals), and what is kept to answer for
it afterwards (the audit log, signed provenance).

It sits above storage and below the services, which call it at admission and when a video is
signed; it never renders or queues anything itself.
"""
