"""The galaxy store: a catalogue and a JPEG thumbnail per galaxy in one SQLite file.

:mod:`~delvol.io.galaxy_store.database` opens and reads a store, :mod:`.schema` describes
its tables, :mod:`.catalog` plans the catalogue columns, :mod:`.images` matches and
probes image files, :mod:`.ingest` fills a store and :mod:`.export` writes it back out.
"""

from delvol.io.galaxy_store.database import GalaxyId, GalaxyStore, StoredImage

__all__ = ["GalaxyId", "GalaxyStore", "StoredImage"]
