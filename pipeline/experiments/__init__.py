"""Experiments that reproduce the lab report's comparisons, each a set of real pipeline runs.

* :mod:`.architectures`: every Fashion-MNIST model on the same splits;
* :mod:`.cross_validation`: K-fold cross-validation of one model;
* :mod:`.data_size`: accuracy against the share of training data;
* :mod:`.transfer_grid`: a pretrained base (efficientnet_lite0, resnet50), weights x
  augmentation, on a photo folder.

Each writes a report folder (Markdown, PNG charts, an HTML page, results.json)
with :mod:`.report`; :mod:`.common` holds the shared run plumbing.
"""
