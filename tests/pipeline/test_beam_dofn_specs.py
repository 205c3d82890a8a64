"""Beam's DoFn introspection, remembered: the same answers, state and timers still seen."""

import gc

import apache_beam as beam
import pytest
from apache_beam.coders import VarIntCoder
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain

from imagepipe.pipeline import beam_dofn_specs, beam_options


class _Counting(beam.DoFn):
    SEEN = userstate.BagStateSpec("seen", VarIntCoder())
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def process(self, element, seen=beam.DoFn.StateParam(SEEN),
                expiry=beam.DoFn.TimerParam(EXPIRY)):
        seen.add(element[1])
        yield element

    @userstate.on_timer(EXPIRY)
    def expire(self):
        pass


class _Plain(beam.DoFn):
    def process(self, element):
        yield element


@pytest.fixture(name="installed")
def _installed():
    beam_dofn_specs.install()
    yield
    beam_dofn_specs.uninstall()


def test_answers_are_beams_own(installed):
    for dofn in (_Counting(), _Plain()):
        assert userstate.get_dofn_specs(dofn) == beam_dofn_specs._BEAMS_OWN(dofn)  # noqa
    assert userstate.is_stateful_dofn(_Counting()) and not userstate.is_stateful_dofn(_Plain())


def test_each_object_is_introspected_once_and_forgotten_when_gone(installed, monkeypatch):
    asked = []
    monkeypatch.setattr(beam_dofn_specs, "_BEAMS_OWN",
                        lambda dofn: asked.append(dofn) or (set(), set()))
    dofn = _Plain()
    for _ in range(5):
        userstate.is_stateful_dofn(dofn)
    assert len(asked) == 1
    key = id(dofn)
    asked.clear()
    del dofn
    gc.collect()
    assert key not in beam_dofn_specs._remembered  # noqa
    assert not asked


def test_a_caller_changing_the_sets_does_not_change_the_next_answer(installed):
    dofn = _Counting()
    states, timers = userstate.get_dofn_specs(dofn)
    states.clear()
    timers.clear()
    assert userstate.get_dofn_specs(dofn) == beam_dofn_specs._BEAMS_OWN(dofn)  # noqa


def test_a_stateful_pipeline_still_runs_with_it(installed):
    options = PipelineOptions(list(beam_options.direct_args(1, beam_options.IN_MEMORY)))
    with beam.Pipeline(options=options) as pipeline:
        counted = (pipeline | beam.Create([("a", 1), ("a", 2), ("b", 3)])
                   | beam.ParDo(_Counting()) | beam.combiners.Count.Globally())
        assert_that(counted, equal_to([3]))


def test_uninstall_restores_beams_function(installed):
    beam_dofn_specs.uninstall()
    assert userstate.get_dofn_specs is beam_dofn_specs._BEAMS_OWN  # noqa
    beam_dofn_specs.install()
