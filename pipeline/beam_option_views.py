"""Beam's pipeline-option views, made once per options object and class in local runs.

``PipelineOptions.view_as(cls)`` builds an argument parser with every option
of ``cls`` and parses the flags again, each time it is called, to return a
view that shares its values with the options object. Beam calls it for every
transform applied (result type inference) and every type-hint check
(``is_consistent_with`` reads ``TypeOptions``): about 1,000 to 2,000 times for
each Beam component of the Fashion-MNIST pipeline, 7.5 s of argument parsing
in all in ``bench/pipeline_bench.py --profile``. A view holds nothing of its
own (its flags are the object's, its values live in the object's shared
dictionary), so the first view of a class serves every later call.
"""

from __future__ import annotations

import weakref
from typing import Any, Dict

from apache_beam.options import pipeline_options

_BEAMS_OWN = pipeline_options.PipelineOptions.view_as
_views: Dict[int, Dict[type, Any]] = {}


def remembered_view(options: pipeline_options.PipelineOptions, cls: type) -> Any:
    """``options.view_as(cls)``, made once per live options object and class.

    Objects that cannot be weakly referenced (so that their entry could not be
    dropped when they go) get a new view every time, as Beam gives.
    """
    key = id(options)
    if key not in _views:
        try:
            weakref.finalize(options, _views.pop, key, None)
        except TypeError:
            return _BEAMS_OWN(options, cls)
        _views[key] = {}
    views = _views[key]
    if cls not in views:
        views[cls] = _BEAMS_OWN(options, cls)
    return views[cls]


def install() -> None:
    """Makes every ``PipelineOptions.view_as`` call use :func:`remembered_view`."""
    pipeline_options.PipelineOptions.view_as = remembered_view


def uninstall() -> None:
    """Restores Beam's own method and forgets the views."""
    pipeline_options.PipelineOptions.view_as = _BEAMS_OWN
    _views.clear()
