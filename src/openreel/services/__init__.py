"""Services: the use cases (generate a video, admit a job...) built from backends and media."""
