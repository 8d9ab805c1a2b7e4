"""Training recipes, one per model (`python recipes/<model>.py`).

Installed as `msakeras.recipes` (see pyproject.toml's package-dir), so
`msakeras train <model>` runs `msakeras.recipes.<model>.main`.
"""
