"""Converters from third-party releases to the standard msakeras HDF5 file.

See `data_prep/README.md`. Run a converter as a module from the repository
root (`python -m data_prep.convert_mmsa_pickle --help`) or as a script.
"""
