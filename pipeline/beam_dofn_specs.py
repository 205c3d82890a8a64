"""Beam's DoFn state-and-timer introspection, remembered per DoFn object in local runs.

``apache_beam.transforms.userstate.get_dofn_specs`` answers "does this DoFn use
state or timers?" by wrapping every method of the DoFn (``dir(dofn)``) and
inspecting its signature, afresh each time it is asked. Pipeline
construction, the FnApiRunner's stage translation and every bundle processor
ask again: 6,486 calls for 917 DoFn objects in one small pipeline run, and
among the largest fixed costs of the Beam components in
``bench/pipeline_bench.py --profile``. The answer depends only on the
object's methods, which do not change once it exists, so :func:`install`
makes Beam remember it per object for as long as the object lives.
"""

from __future__ import annotations

import weakref
from typing import Any, Dict, Set, Tuple

from apache_beam.transforms import userstate

Specs = Tuple[Set[Any], Set[Any]]

_BEAMS_OWN = userstate.get_dofn_specs
_remembered: Dict[int, Specs] = {}


def remembered_dofn_specs(dofn: Any) -> Specs:
    """``userstate.get_dofn_specs(dofn)``, computed once per live DoFn object.

    Objects that cannot be weakly referenced (so that their entry could not be
    dropped when they go) are introspected every time, as Beam does.
    """
    key = id(dofn)
    if key not in _remembered:
        specs = _BEAMS_OWN(dofn)
        try:
            weakref.finalize(dofn, _remembered.pop, key, None)
        except TypeError:
            return specs
        _remembered[key] = specs
    state_specs, timer_specs = _remembered[key]
    return set(state_specs), set(timer_specs)


def install() -> None:
    """Makes Beam's callers (they look the function up at each call) use the remembered one."""
    userstate.get_dofn_specs = remembered_dofn_specs


def uninstall() -> None:
    """Restores Beam's own function and forgets what was remembered."""
    userstate.get_dofn_specs = _BEAMS_OWN
    _remembered.clear()
