"""Services: the use cases (generate a video, admit a job...) built from backends and media.

Imports: backends, media, storage, queue, domain, errors, config. Never api or cli.
"""
