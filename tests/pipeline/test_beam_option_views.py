"""Beam's option views, made once: the same values, changes still shared, a pipeline still runs."""

import gc

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import (DirectOptions, PipelineOptions, SetupOptions,
                                                  StandardOptions, TypeOptions)
from apache_beam.testing.util import assert_that, equal_to

from imagepipe.pipeline import beam_option_views, beam_options

FLAGS = ["--runner=DirectRunner", "--direct_num_workers=1", "--no_pipeline_type_check"]


@pytest.fixture(name="installed")
def _installed():
    beam_option_views.install()
    yield
    beam_option_views.uninstall()


def test_views_hold_beams_values(installed):
    options = PipelineOptions(FLAGS)
    for cls in (StandardOptions, DirectOptions, TypeOptions, SetupOptions):
        view = options.view_as(cls)
        assert isinstance(view, cls)
        assert view.get_all_options() == beam_option_views._BEAMS_OWN(  # noqa
            options, cls).get_all_options()
    assert options.view_as(StandardOptions).runner == "DirectRunner"
    assert options.view_as(DirectOptions).direct_num_workers == 1
    assert options.view_as(TypeOptions).pipeline_type_check is False


def test_a_value_set_through_a_view_is_seen_everywhere(installed):
    options = PipelineOptions(FLAGS)
    options.view_as(SetupOptions).save_main_session = True
    assert options.view_as(SetupOptions).save_main_session is True
    assert beam_option_views._BEAMS_OWN(options, SetupOptions).save_main_session is True  # noqa
    assert not PipelineOptions(FLAGS).view_as(SetupOptions).save_main_session  # its own values


def test_each_object_parses_once_per_class_and_is_forgotten_when_gone(installed, monkeypatch):
    made = []
    beams_own = beam_option_views._BEAMS_OWN  # noqa
    monkeypatch.setattr(beam_option_views, "_BEAMS_OWN",
                        lambda options, cls: made.append(cls) or beams_own(options, cls))
    options = PipelineOptions(FLAGS)
    for _ in range(5):
        options.view_as(StandardOptions)
        options.view_as(TypeOptions)
    assert made == [StandardOptions, TypeOptions]
    key = id(options)
    del options
    gc.collect()
    assert key not in beam_option_views._views  # noqa


def test_a_typed_pipeline_still_runs_with_it(installed):
    options = PipelineOptions(list(beam_options.direct_args(1, beam_options.IN_MEMORY)))
    with beam.Pipeline(options=options) as pipeline:
        lengths = (pipeline | beam.Create(["a", "bb", "ccc"])
                   | beam.Map(len).with_output_types(int) | beam.CombineGlobally(sum))
        assert_that(lengths, equal_to([6]))


def test_uninstall_restores_beams_method(installed):
    beam_option_views.uninstall()
    assert PipelineOptions.view_as is beam_option_views._BEAMS_OWN  # noqa
    beam_option_views.install()
