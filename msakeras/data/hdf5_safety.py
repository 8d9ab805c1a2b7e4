"""Refuses HDF5 files whose datasets read bytes from other files.

HDF5 lets a dataset keep its bytes in other files: external storage
(`H5Pset_external`, raw bytes of any local file), external links (an
object of another HDF5 file) and virtual datasets (a mapping onto other
files). Reading such a dataset reads the other file, so a hostile file
could copy any local file into a converted output. Every HDF5 that
msakeras or a `data_prep` converter reads goes through
`check_self_contained` first; soft links inside the file are followed
only as far as the file itself.
"""

import h5py


def check_self_contained(file, path=None, role="File"):
    """Raises `ValueError` if any object of `file` reads another file.

    Args:
        file: an open `h5py.File`.
        path: str or None. The file name for messages; defaults to
            `file.filename`.
        role: str. How to name the file in messages (`"File"`,
            `"--text file"`, ...).
    """
    path = path if path is not None else file.filename
    pending = [file]
    seen = set()
    while pending:
        group = pending.pop()
        for name in group:
            link = group.get(name, getlink=True)
            location = f"{group.name.rstrip('/')}/{name}"
            if isinstance(link, h5py.ExternalLink):
                raise ValueError(
                    f"{role} '{path}': '{location}' is an external link to "
                    f"'{link.filename}'; files that read other files are "
                    "refused."
                )
            if isinstance(link, h5py.SoftLink):
                continue  # its target, inside this file, is checked itself
            item = group[name]
            address = h5py.h5o.get_info(item.id).addr  # hard-link cycles
            if address in seen:
                continue
            seen.add(address)
            if isinstance(item, h5py.Group):
                pending.append(item)
            elif isinstance(item, h5py.Dataset):
                if item.is_virtual:
                    raise ValueError(
                        f"{role} '{path}': dataset '{location}' with shape "
                        f"{item.shape} is a virtual dataset; files that "
                        "read other files are refused."
                    )
                if item.id.get_create_plist().get_external_count() > 0:
                    raise ValueError(
                        f"{role} '{path}': dataset '{location}' with shape "
                        f"{item.shape} keeps its bytes in external files; "
                        "files that read other files are refused."
                    )
