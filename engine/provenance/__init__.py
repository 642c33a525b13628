"""What a media file says about its own origin: metadata, Content Credentials, inconsistencies.

Qt-free and headless. :func:`engine.provenance.inspect.inspect_file` reads one file (the bytes
that were hashed) and returns a frozen :class:`engine.provenance.model.FileProvenance`; it never
raises for bad input: problems become notes in the record. The heavy libraries (exiv2, PyAV,
c2pa-python, Pillow) are imported inside functions, so importing the record types is cheap.

Modules: ``model`` (records), ``codec`` (dict round trip), ``inspect`` (the one entry point),
``source`` (reading the bytes, format family), ``exif_meta`` (exiv2), ``icc``, ``gps``,
``png_chunks``, ``jpeg_quant`` and ``jpeg_double`` (quantisation tables, double-compression
hint), ``thumbnail``, ``video_meta`` and ``bmff`` (containers), ``c2pa_read`` and ``trust``
(Content Credentials), ``checks``, ``checks_dates``, ``dates`` and ``software`` (the
inconsistency rules), ``textutil`` (making untrusted text safe).
"""
