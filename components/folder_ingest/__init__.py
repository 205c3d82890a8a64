"""Photo-folder ingestion as a TFX ExampleGen: component, spec, driver and executor apart.

``FolderExampleGen`` turns a folder of class sub-folders (or a class map that
groups sub-folders into classes) into tf.Examples, every file ingested or
skipped with a reason, in three steps:

1. **Scan** (:func:`imagepipe.data.photo_folder.scan`, the same function as
   ``imagepipe inspect``): every entry under the folder is looked at; every
   image is decoded fully once with Pillow; bad entries (empty, truncated,
   not images, decompression bombs, unreadable, broken links and link loops,
   hidden and system files, names that are not UTF-8, the same content under
   two classes...) are skipped with a reason. Never fatal, never silent.
2. **Split**, stratified by class and deterministic (70/15/15 by default),
   with every class in every split. The run stops with a clear message only
   when a class has no usable image or too few for every split.
3. **Examples**, in Beam: each accepted file is read again (its content hash
   must not have changed), normalised (:func:`imagepipe.data.images.normalise`)
   and written with the features of :mod:`imagepipe.components.features`:
   ``image`` (normalised RGB, lossless PNG), ``image_original`` (the file's own bytes),
   ``image_format``, ``label`` (class id), ``label_name`` (class name),
   ``source_folder``, ``relative_path``, ``content_hash`` and ``example_id``
   (the relative path).

``ingest_report.json`` at the artifact's root lists what was seen, ingested
and skipped (every skipped path with its reason) and the split counts; the
artifact carries ``num_examples`` and ``num_skipped``. The driver fingerprints
the folder's listing (paths, sizes, times), so an unchanged folder reuses the
cached result and any change reruns ingestion.

**Spans** (:mod:`imagepipe.data.spans`): a folder of ``span-N`` sub-folders is
ingested as the window of spans the ``spans`` property names (all, latest or
the latest K), resolved by the driver at run time: the artifact's TFX ``span``
property is the window's latest span, its ``spans`` custom property lists
them all (e.g. ``1,2,3``), and paths (``relative_path``, ``example_id``) start
with ``span-N/``. Each span is split on its own, so a photo keeps its split
when later spans arrive. A folder without span folders is span 0, as before.
With a span cache (``with_span_cache``; the pipeline keeps one under its
root), a rerun ingests only the spans not ingested before: the others' scans
and examples are read from the cache (``spans_from_cache`` on the artifact).

Modules, as tfx-addons lays a component out:

* :mod:`.component`: ``FolderExampleGen``, what a pipeline builds;
* :mod:`.spec`: its execution parameters;
* :mod:`.driver`: the window of spans and the folder's fingerprint;
* :mod:`.executor`: what runs (compiled specs name ``executor.Executor``);
* :mod:`.planning`: scan the window, stop on a class that cannot be split,
  assign splits, report (steps 1 and 2);
* :mod:`.examples`: one photo's tf.Example, checked against the scan (step 3);
* :mod:`.span_cache`: each span's scan and examples, kept for the next run.
"""
