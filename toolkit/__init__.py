"""A document annotation and provenance toolkit: plain-text archival captures -> TEI P5."""

__version__ = "0.1.0"
