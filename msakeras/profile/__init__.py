"""`python -m msakeras.profile MODEL_NAME` (see `__main__`)."""
