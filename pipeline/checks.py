"""The checks that refuse a run before it starts, shared by every command and create_pipeline.

A setting that cannot reach the code it names is refused here, with a message
naming the flag: a model option the model does not take, fine-tuning without a
pretrained base, photo augmentation on photos, a tuner on a K-fold plan, a
weights file that does not exist, data that is not there.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, List

from imagepipe.components import sources
from imagepipe.components.record import flag_name
from imagepipe.components.settings import ModelOptions, TrainingSettings
from imagepipe.pipeline.config import PipelineConfig


def _option_flags(names) -> str:
    fields = {f.name: f for f in dataclasses.fields(ModelOptions)}
    return " and ".join(flag_name(fields[name]) for name in names)


def model_problems(training: TrainingSettings) -> List[str]:
    """Why the model settings cannot be honoured (any architecture builds for any image shape)."""
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    try:
        models.architecture(training.model_name)
    except models.UnknownModelError as error:
        return [str(error)]
    problems = []
    ignored = models.ignored_options(training.model_name, training.model_options)
    if ignored:
        takers = [n for n in models.names()
                  if set(ignored) <= set(models.architecture(n).takes)]
        problems.append(f"model {training.model_name!r} does not take "
                        f"{_option_flags(ignored)}; models that do: {', '.join(takers) or 'none'}")
    weights = training.model_options.weights
    local_file = weights not in ("none", "imagenet") and "://" not in weights
    check = models.architecture(training.model_name).check_weights
    if local_file and not os.path.isfile(weights):
        problems.append(f"weights file not found: {weights}")
    elif local_file and check is not None:
        problems += [problem for problem in [check(weights)] if problem]
    options = training.model_options
    if options.mirror and (options.augment or not options.pretrained):
        problems.append("--mirror adds mirrored features for a frozen base's head: it needs "
                        "--weights imagenet or a weights file, and no --augment (which flips "
                        "at random already)")
    if training.fine_tune_epochs and not training.model_options.pretrained:
        problems.append("--fine-tune-epochs unfreezes the top of a pretrained base: it needs "
                        "--weights imagenet or a weights file (and a model that takes them: "
                        + ", ".join(n for n in models.names()
                                    if "weights" in models.architecture(n).takes) + ")")
    return problems


def problems(config: PipelineConfig, plan: Any = None) -> List[str]:
    """Every reason ``config`` cannot run as asked (empty: it can)."""
    try:
        source = sources.of(config.data)
    except (KeyError, TypeError) as error:
        return [str(error)]
    found = list(source.problems(config.data))
    found += source.training_problems(config.training)
    found += model_problems(config.training)
    if config.training.class_names:
        expected = source.class_names(config.data)
        if tuple(config.training.class_names) != tuple(expected):
            found.append(f"training class names {list(config.training.class_names)} differ "
                         f"from the {source.name} source's {list(expected)}")
    if plan is not None and config.tuning is not None and not plan.tunable:
        found.append(f"the {plan.name} plan cannot run the Tuner (--tune): it trains one model "
                     f"per fold")
    if plan is not None and config.training.warm_start and not _publishes(config, plan):
        found.append(f"the {plan.name} plan cannot warm-start (--warm-start): each fold's model "
                     f"starts from scratch")
    return found


def _publishes(config: PipelineConfig, plan: Any) -> bool:
    """Whether every model of ``plan`` is compared with and pushed as the latest blessed one."""
    try:
        return all(task.publish for task in plan.trainings(list(plan.split_ratios(config))))
    except ValueError:  # the splits' own problem is reported by the plan
        return True


def raise_problems(config: PipelineConfig, plan: Any = None) -> None:
    """Raises ValueError listing every problem of ``config``, if there is any."""
    found = problems(config, plan)
    if found:
        raise ValueError("; ".join(found))
