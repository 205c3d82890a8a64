"""The unlabelled-folder ExampleGen: every photo of a folder without classes, for BulkInferrer.

A run that names an unlabelled folder (``--classify DIR``) ingests it with
:class:`component.UnlabelledExampleGen`: the folder is walked like a photo
folder (recursively, sorted, links leading outside it skipped, no file read
past the size limit), every file is checked by decoding it fully, and each
photo becomes a tf.Example in one split, ``unlabelled``, holding the
normalised copy the model's ``from_examples`` and ``bulk_inference`` signatures read
(``features.IMAGE_KEY``), its path below the folder
(``features.RELATIVE_PATH_KEY``), its content hash and its example id. Files
that are not usable images are listed in ``ingest_report.json`` with their
reasons, never fatal.

Modules, one job each: :mod:`.spec` (parameters), :mod:`.listing` (the
checked listing and one photo's example), :mod:`.report` (the ingest report),
:mod:`.driver` (the folder's fingerprint), :mod:`.executor` (the Beam job) and
:mod:`.component`.
"""
