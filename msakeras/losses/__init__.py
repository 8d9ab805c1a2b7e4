"""Parameter-free objectives: a per-sample function and a Loss class each."""
