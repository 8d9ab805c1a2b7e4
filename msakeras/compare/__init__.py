"""`python -m msakeras.compare RUN_DIR_A RUN_DIR_B` (see `__main__`)."""
