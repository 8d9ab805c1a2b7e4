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

    Walks the file with h5py's low-level API (link and layout metadata
    only: no dataset value is read, and no `h5py.Group` is opened).

    Args:
        file: an open `h5py.File`.
        path: str or None. The file name for messages; defaults to
            `file.filename`.
        role: str. How to name the file in messages (`"File"`,
            `"--text file"`, ...).
    """
    path = path if path is not None else file.filename
    pending = [(file.id, "")]
    seen = set()
    while pending:
        group_id, prefix = pending.pop()
        for raw_name in list(group_id):
            name = raw_name.decode("utf-8", "replace")
            location = f"{prefix}/{name}"
            link = group_id.links.get_info(raw_name)
            if link.type == h5py.h5l.TYPE_EXTERNAL:
                target = group_id.links.get_val(raw_name)
                raise ValueError(
                    f"{role} '{path}': '{location}' is an external link to "
                    f"'{target[0].decode('utf-8', 'replace')}'; files that "
                    "read other files are refused."
                )
            if link.type != h5py.h5l.TYPE_HARD:
                continue  # soft links point inside this file: walked there
            object_id = h5py.h5o.open(group_id, raw_name)
            address = h5py.h5o.get_info(object_id).addr  # hard-link cycles
            if address in seen:
                continue
            seen.add(address)
            if isinstance(object_id, h5py.h5g.GroupID):
                pending.append((object_id, location))
            elif isinstance(object_id, h5py.h5d.DatasetID):
                plist = object_id.get_create_plist()
                shape = object_id.shape
                if plist.get_layout() == h5py.h5d.VIRTUAL:
                    raise ValueError(
                        f"{role} '{path}': dataset '{location}' with shape "
                        f"{shape} is a virtual dataset; files that read "
                        "other files are refused."
                    )
                if plist.get_external_count() > 0:
                    raise ValueError(
                        f"{role} '{path}': dataset '{location}' with shape "
                        f"{shape} keeps its bytes in external files; files "
                        "that read other files are refused."
                    )
