"""Evaluation of models on a labelled folder of real photos, for failure analysis.

The classes are the model's own, so a folder-trained model is evaluated as
well as a Fashion-MNIST one. Where the model has the ``normalized_images``
signature, the evaluation also keeps what the model saw: the share of photos
whose normalized image is nearly empty, and a contact sheet of the worst
photos beside their normalized images. Several models can be compared on the
same photos in one run.

Modules, one job each:

* :mod:`.models`: the models (a local SavedModel, a served one) and their classes;
* :mod:`.evaluation`: running the models over the photo folder;
* :mod:`.metrics`: accuracy, recall per class and per source folder, near-empty share;
* :mod:`.pictures`: the confusion matrix and the worst photos' contact sheet;
* :mod:`.output`: the printout and the report files of one model;
* :mod:`.comparison`: several models side by side.
"""

from imagepipe.pipeline.photo_eval.comparison import (
    COMPARISON_JSON, comparison_dict, format_comparison, write_comparison)
from imagepipe.pipeline.photo_eval.evaluation import (
    evaluate, evaluate_all, servable, servable_bytes)
from imagepipe.pipeline.photo_eval.metrics import (
    LIT_LEVEL, NEAR_EMPTY_LIT_FRACTION, WORST_SHOWN, FolderRecall, PhotoEvaluation, PhotoResult,
    lit_fraction)
from imagepipe.pipeline.photo_eval.models import (
    EvaluatedModel, latest_version, local_model, model_class_names, served_model)
from imagepipe.pipeline.photo_eval.output import (
    CONFUSION_PNG, CONTACT_SHEET_PNG, REPORT_JSON, format_evaluation, write_report)
from imagepipe.pipeline.photo_eval.pictures import confusion_matrix_png, contact_sheet_png

__all__ = [
    "COMPARISON_JSON", "CONFUSION_PNG", "CONTACT_SHEET_PNG", "LIT_LEVEL",
    "NEAR_EMPTY_LIT_FRACTION", "REPORT_JSON", "WORST_SHOWN", "EvaluatedModel", "FolderRecall",
    "PhotoEvaluation", "PhotoResult", "comparison_dict", "confusion_matrix_png",
    "contact_sheet_png", "evaluate", "evaluate_all", "format_comparison", "format_evaluation",
    "latest_version", "lit_fraction", "local_model", "model_class_names", "served_model",
    "servable", "servable_bytes", "write_comparison", "write_report",
]
