"""The standard HDF5 data format, its reader and the synthetic default."""
