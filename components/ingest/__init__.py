"""Fashion-MNIST ingestion as TFX ExampleGens: component, spec and executor apart.

Two sources give the same examples:

* ``FashionMnistExampleGen`` reads the canonical IDX files under
  ``input_base`` (local or ``gs://``). Its driver fingerprints those files, so
  a rerun on unchanged files reuses the cached output.
* ``FashionMnistTfdsExampleGen`` reads the TFDS ``fashion_mnist`` data set
  (downloaded when missing), for machines that are online.

Each example holds the image as PNG bytes, the original label, its name and a
stable id. Labels outside the class map (bag) are left out and counted. The
remaining examples are split by a seeded permutation into exact proportions
(70/15/15 by default, :mod:`imagepipe.data.splits`), and ``ingest_report.json``
at the artifact's root records what was kept, left out and where it went.

Modules, as tfx-addons lays a component out:

* :mod:`.component`: the two components, what a pipeline builds;
* :mod:`.spec`: their execution parameters and the class map's encoding;
* :mod:`.executor`: what runs (compiled specs name ``executor.Executor`` and
  ``executor.TfdsExecutor``);
* :mod:`.examples`: one image's tf.Example, and a Beam chunk of them;
* :mod:`.report`: the ingest report.
"""
