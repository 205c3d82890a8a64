"""The model card of a pushed version: what the run recorded, gathered into one document.

:func:`build` turns the run's own records (the ingest report, the training
summary and history, the Evaluator's figures) into a :class:`ModelCard`
whose sections carry model-card-toolkit's field names (``model_details``,
``model_parameters``, ``quantitative_analysis``, ``considerations``) and
whose pictures (the training curves, the confusion matrix) are drawn by
:mod:`imagepipe.components.card_figures`;
:mod:`imagepipe.components.card_render` writes it as Markdown, HTML, JSON
and PNG files. Nothing is computed here that the run did not record: a
record that is missing is said to be missing. See docs/decisions/0014-model-card-plain-structure.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from imagepipe.components import card_figures, reports
from imagepipe.components.card_figures import Figure
from imagepipe.components.drift import DriftReport
from imagepipe.components.evaluation_metrics import EvaluationMetrics
from imagepipe.components.reports import percent

# A block of a section: a paragraph, a bullet list, a table (header row first) or a picture.
Paragraph = str
Bullets = Tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Table:
    rows: Tuple[Tuple[str, ...], ...]  # the header first


Block = Union[Paragraph, Bullets, Table, Figure]


@dataclasses.dataclass(frozen=True)
class Section:
    """A section of the card: its model-card-toolkit field, its title and its blocks."""

    field: str
    title: str
    blocks: Tuple[Block, ...]


@dataclasses.dataclass(frozen=True)
class ModelCard:
    """The card: the model's name and version, and its sections in reading order."""

    name: str
    version: str
    sections: Tuple[Section, ...]
    facts: Dict[str, Any]  # the figures in the card, as JSON values


@dataclasses.dataclass(frozen=True)
class RunRecords:
    """What a run recorded, each None when the run did not record it."""

    ingest: Optional[reports.IngestReport] = None
    training: Optional[reports.TrainingSummary] = None
    evaluation: Optional[EvaluationMetrics] = None
    model_uri: str = ""
    drift: Optional[DriftReport] = None  # photo folders: the newest span against the previous
    history: Optional[Sequence[Mapping[str, float]]] = None  # the Trainer's rows per epoch


NOT_RECORDED = "not recorded by this run"


def build(name: str, version: str, records: RunRecords) -> ModelCard:
    """The card of version ``version`` of served model ``name`` from the run's records."""
    class_names = list(records.training.class_names) if records.training else []
    sections = (
        Section("model_details", "Model", _details(records)),
        Section("model_parameters.data", "Data", _data(records.ingest) + _drift(records.drift)),
        Section("model_parameters", "Training",
                _training(records.training) + _curves(records)),
        Section("quantitative_analysis", "Evaluation (test split)",
                _evaluation(records.evaluation, class_names)),
        Section("considerations.limitations", "Known limits",
                (tuple(_limits(records, class_names)),)),
    )
    return ModelCard(name, version, sections, _facts(records, class_names))


def _details(records: RunRecords) -> Tuple[Block, ...]:
    training = records.training
    what = (f"An image classifier ({training.settings.model_name}) of "
            f"{len(training.class_names)} classes: {', '.join(training.class_names)}."
            if training else "An image classifier.")
    return (what, (f"trained model: {records.model_uri or NOT_RECORDED}",
                   "pushed because the Evaluator blessed it (accuracy bound, and not worse "
                   "than the latest blessed model when compared)"))


def _data(ingest: Optional[reports.IngestReport]) -> Tuple[Block, ...]:
    if ingest is None:
        return (f"Ingest report {NOT_RECORDED}.",)
    if isinstance(ingest, reports.FashionMnistIngestReport):
        return _fashion_mnist_data(ingest)
    if isinstance(ingest, reports.FolderIngestReport):
        return _folder_data(ingest)
    totals = ", ".join(f"{name} {count}" for name, count in ingest.split_totals.items())
    return (f"Source: {ingest.source}; {ingest.kept_examples} examples (splits: {totals}).",)


def _drift(report: Optional[DriftReport]) -> Tuple[Block, ...]:
    if report is None:
        return ()
    return (report.headline()[0].upper() + report.headline()[1:] + ".",
            tuple(line.strip() for line in report.summary_lines()[1:]))


def _split_table(splits: Dict[str, Dict[str, int]], class_names: Sequence[str]) -> Table:
    header = ("class", "total", *splits)
    rows = [(name, str(sum(split.get(name, 0) for split in splits.values())),
             *(str(split.get(name, 0)) for split in splits.values())) for name in class_names]
    return Table((header, *rows))


def _fashion_mnist_data(ingest: reports.FashionMnistIngestReport) -> Tuple[Block, ...]:
    left_out = ", ".join(f"{label} ({count} images)" for label, count in
                         ingest.left_out.items()) or "nothing"
    per_class = {name: split.per_class for name, split in ingest.splits.items()}
    names = list(next(iter(per_class.values()), {}))
    return (f"Source: Fashion-MNIST ({ingest.images_read} images read, {ingest.kept} kept, "
            f"split seed {ingest.split_seed}).",
            (f"left out: {left_out}",),
            "Images per class and split:", _split_table(per_class, names))


def _folder_data(ingest: reports.FolderIngestReport) -> Tuple[Block, ...]:
    skipped = ", ".join(f"{reason} {count}" for reason, count in
                        ingest.skipped_by_reason.items()) or "nothing"
    blocks: List[Block] = [
        f"Source: photo folder {ingest.root} ({ingest.seen} entries seen = {ingest.ingested} "
        f"ingested + {ingest.skipped} skipped; split seed {ingest.split_seed}).",
        (f"left out or skipped: {skipped}",
         "class map: " + "; ".join(f"{name} = {', '.join(folders)}"
                                   for name, folders in ingest.class_map.items()),
         "formats: " + (", ".join(f"{k} {v}" for k, v in ingest.formats.items()) or "none"))]
    if ingest.missing_folders:
        blocks.append(("folders in the class map but not found: "
                       + ", ".join(ingest.missing_folders),))
    per_class = {name: split.per_class for name, split in (ingest.splits or {}).items()}
    blocks += ["Photos per class and split:",
               _split_table(per_class, [entry.name for entry in ingest.classes])]
    return tuple(blocks)


def _training(training: Optional[reports.TrainingSummary]) -> Tuple[Block, ...]:
    if training is None:
        return (f"Training summary {NOT_RECORDED}.",)
    settings = training.settings
    lines = [f"model: {settings.model_name} ({training.parameters:,} parameters, "
             f"{training.trainable_parameters:,} trainable)",
             f"epochs run: {training.epochs_run} of at most {settings.epochs}; best epoch "
             f"{training.best_epoch} (validation accuracy "
             f"{percent(training.best_val_accuracy)})",
             f"training examples: {training.training_examples:,}",
             training.balance.summary_line().strip()]
    if training.fine_tuning is not None:
        lines.append(f"fine-tuning: {training.fine_tuning.epochs_run} epochs, "
                     f"{training.fine_tuning.unfrozen_layers} layers unfrozen, kept "
                     f"{training.fine_tuning.kept}")
    if training.class_bias is not None:
        lines.append(training.class_bias.summary_line().strip())
    options = _flatten(dataclasses.asdict(settings))
    rows = tuple((name, _shown(value)) for name, value in options.items()
                 if name != "class_names")
    return (tuple(lines), "Settings applied:", Table((("setting", "value"), *rows)))


def _curves(records: RunRecords) -> Tuple[Block, ...]:
    if not records.history:
        return (f"Training history {NOT_RECORDED}.",)
    name = records.training.settings.model_name if records.training else "model"
    return (card_figures.training_curves(records.history, name),)


def _flatten(values: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    flat: Dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    return "(default)" if value is None else str(value)


def _evaluation(metrics: Optional[EvaluationMetrics],
                class_names: Sequence[str]) -> Tuple[Block, ...]:
    if metrics is None or metrics.accuracy is None:
        return (f"Evaluation {NOT_RECORDED}.",)
    count = f" on {metrics.example_count} test images" if metrics.example_count else ""
    blocks: List[Block] = [f"Accuracy: {percent(metrics.accuracy)}{count}."]
    if metrics.confusion_matrix and class_names:
        blocks.append(Table((("class", "test images", "recall", "precision"), *(
            (name, str(sum(row)), percent(metrics.recall.get(name)),
             percent(metrics.precision.get(name)))
            for name, row in zip(class_names, metrics.confusion_matrix)))))
        blocks.append("Confusion matrix (rows: true class, columns: predicted):")
        blocks.append(Table((("true \\ predicted", *class_names), *(
            (name, *map(str, row)) for name, row in zip(class_names,
                                                       metrics.confusion_matrix)))))
        blocks.append(card_figures.confusion_matrix(metrics.confusion_matrix, class_names))
    return tuple(blocks)


FEW_TEST_IMAGES = 30


def _limits(records: RunRecords, class_names: Sequence[str]) -> List[str]:
    limits = []
    if isinstance(records.ingest, reports.FashionMnistIngestReport):
        limits.append("Trained on Fashion-MNIST: grayscale 28x28 product photos, one garment "
                      "centred on a black background. Phone or shop photos (colour, "
                      "backgrounds, other framing) are outside what it saw; measure them with "
                      "`imagepipe evaluate --photos` before trusting it on them.")
    elif isinstance(records.ingest, reports.FolderIngestReport):
        limits.append(f"Trained on the photos of {records.ingest.root} only; its test figures "
                      f"come from a split of the same folder, not from new photos.")
    if records.drift is not None and records.drift.drifted:
        limits.append(f"Pushed although the {records.drift.reason()}, accepted with "
                      f"--accept-drift: its training and test photos mix spans that differ.")
    if class_names:
        limits.append(f"It knows {len(class_names)} classes ({', '.join(class_names)}): any "
                      f"other image is still given one of them.")
    metrics = records.evaluation
    if metrics is not None and metrics.confusion_matrix:
        few = [f"{name} ({sum(row)})" for name, row in zip(class_names,
                                                           metrics.confusion_matrix)
               if sum(row) < FEW_TEST_IMAGES]
        if few:
            limits.append(f"Recall rests on fewer than {FEW_TEST_IMAGES} test images for: "
                          f"{', '.join(few)}.")
    return limits or ["None recorded."]


def figures(card: ModelCard) -> Tuple[Figure, ...]:
    """The card's pictures, in reading order."""
    return tuple(block for section in card.sections for block in section.blocks
                 if isinstance(block, Figure))


def _facts(records: RunRecords, class_names: Sequence[str]) -> Dict[str, Any]:
    metrics = records.evaluation or EvaluationMetrics()
    training = records.training
    return {
        "class_names": list(class_names),
        "accuracy": metrics.accuracy,
        "test_images": metrics.example_count,
        "recall": metrics.recall,
        "precision": metrics.precision,
        "confusion_matrix": metrics.confusion_matrix,
        "model_name": training.settings.model_name if training else None,
        "epochs_run": training.epochs_run if training else None,
        "source": records.ingest.source if records.ingest else None,
        "model_uri": records.model_uri,
        "drift": records.drift.to_dict() if records.drift else None,
    }
