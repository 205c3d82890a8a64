"""Compiles the pipeline for Kubeflow Pipelines and Vertex AI Pipelines.

``KubeflowV2DagRunner`` (TFX 1.16) turns the same ``create_pipeline`` DAG that
runs locally into a KFP v2 pipeline spec (schema 2.1.0) whose components run in
one container image. It needs only ``kfp-pipeline-spec`` (the ``kubeflow``
extra), not the ``kfp`` SDK.

* ``kubeflow``: a YAML ``PipelineSpec``, what the Kubeflow Pipelines UI or
  ``kfp.Client().upload_pipeline`` takes.
* ``vertex``: a JSON ``PipelineJob`` (spec + runtime config with the pipeline
  root), what ``google.cloud.aiplatform.PipelineJob(template_path=...)`` takes.

The compiled pipeline takes ML Metadata from the orchestrator and exposes the
run settings of :func:`imagepipe.pipeline.pipeline.run_settings` as runtime
parameters with the config's values as defaults.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Dict, List, Optional, Tuple

import yaml

from imagepipe.pipeline.config import PipelineConfig

TARGETS = ("kubeflow", "vertex")
SPEC_SUFFIX = {"kubeflow": ".yaml", "vertex": ".json"}
_EXTRA_HINT = ("./scripts/test.sh installs it, or pip install -c constraints/tfx-<1.16|1.21>.txt "
               "-e '.[kubeflow]' (the stack of your venv)")


def default_output(pipeline_name: str, target: str) -> str:
    """The spec file name ``compile`` writes when no ``--output`` is given."""
    return f"{pipeline_name}{SPEC_SUFFIX[target]}"


def check_target(config: PipelineConfig, target: str) -> Optional[str]:
    """Returns why ``config`` cannot be compiled for ``target``, or None."""
    if target not in TARGETS:
        return f"unknown target {target!r}; known: {', '.join(TARGETS)}"
    if target == "vertex" and not config.pipeline_root.startswith("gs://"):
        return (f"Vertex AI needs a gs:// pipeline root, got {config.pipeline_root!r} "
                f"(--pipeline-root)")
    return None


def orchestrated(config: PipelineConfig) -> PipelineConfig:
    """The config as compiled: metadata from the orchestrator, run settings as parameters."""
    return dataclasses.replace(config, metadata_path=None, runtime_parameters=True)


def _runner_module():
    try:
        # pylint: disable-next=g-import-not-at-top
        from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner
    except ImportError as error:
        raise ImportError(f"compiling for Kubeflow/Vertex needs kfp-pipeline-spec, the kubeflow "
                          f"extra: {_EXTRA_HINT} ({error})") from error
    return kubeflow_v2_dag_runner


def parameter_docs() -> Dict[str, str]:
    """Each runtime parameter's description: its setting's help text."""
    from imagepipe.components import settings  # pylint: disable=g-import-not-at-top
    return {field.name: field.metadata.get("help", "")
            for cls in (settings.TrainingSettings, settings.EvaluationSettings)
            for field in settings.runtime_fields(cls)}


def compile_pipeline(config: PipelineConfig, image: str, output_file: str) -> Dict[str, Any]:
    """Writes the pipeline spec of ``config`` to ``output_file`` (local or ``gs://``).

    KubeflowV2DagRunner declares each RuntimeParameter's type but not its
    default; the defaults (the config's values) are written into the spec's
    root parameters here, and into the PipelineJob's runtime config. The
    pipeline root goes into both too (``defaultPipelineRoot``).

    Args:
      config: the pipeline configuration; compiled through :func:`orchestrated`.
      image: the container image every component runs in (see the Dockerfile).
      output_file: ``.yaml``/``.yml`` for a PipelineSpec, else a JSON PipelineJob.

    Returns:
      The compiled PipelineJob as a dict (``pipelineSpec``, ``runtimeConfig``).
    """
    # pylint: disable-next=g-import-not-at-top
    from imagepipe.pipeline.pipeline import create_pipeline, run_settings
    runner_module = _runner_module()
    compiled = orchestrated(config)
    defaults = {name: parameter.default for name, parameter in run_settings(compiled).items()}
    runner = runner_module.KubeflowV2DagRunner(config=runner_module.KubeflowV2DagRunnerConfig(
        display_name=config.pipeline_name, default_image=image, use_pipeline_spec_2_1=True))
    job = runner.run(create_pipeline(compiled), parameter_values=defaults, write_out=False)
    job["pipelineSpec"]["defaultPipelineRoot"] = compiled.pipeline_root
    root_parameters = job["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]
    docs = parameter_docs()
    for name, default in defaults.items():
        root_parameters[name].update(defaultValue=default, isOptional=True,
                                     description=docs.get(name, ""))
    _write(job, output_file)
    return job


def _write(job: Dict[str, Any], output_file: str) -> None:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    folder = os.path.dirname(output_file)
    if folder:
        tf.io.gfile.makedirs(folder)
    with tf.io.gfile.GFile(output_file, "w") as f:
        if output_file.endswith((".yaml", ".yml")):
            yaml.safe_dump(job["pipelineSpec"], f, sort_keys=True)
        else:
            json.dump(job, f, indent=2, sort_keys=True)


def read_spec(path: str) -> Dict[str, Any]:
    """Reads a compiled spec (YAML PipelineSpec or JSON PipelineJob) as a PipelineJob dict.

    Raises:
      FileNotFoundError: ``path`` does not exist.
      ValueError: the file is not a compiled pipeline spec.
    """
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"compiled pipeline spec not found: {path} "
                                f"(write it with `imagepipe compile`)")
    with tf.io.gfile.GFile(path) as f:
        text = f.read()
    try:
        document = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: not a JSON/YAML pipeline spec ({error})") from error
    if isinstance(document, dict) and "pipelineSpec" in document:
        return document
    if isinstance(document, dict) and "pipelineInfo" in document and "root" in document:
        return {"pipelineSpec": document, "runtimeConfig": {}}
    raise ValueError(f"{path}: neither a PipelineJob nor a PipelineSpec "
                     f"(no pipelineSpec, pipelineInfo or root)")


def parameters(job: Dict[str, Any]) -> Dict[str, Tuple[str, Any]]:
    """The pipeline's runtime parameters: name -> (parameter type, default or None)."""
    definitions = job["pipelineSpec"]["root"].get("inputDefinitions", {}).get("parameters", {})
    return {name: (spec.get("parameterType", spec.get("type", "")), spec.get("defaultValue"))
            for name, spec in sorted(definitions.items())}


def tasks(job: Dict[str, Any]) -> Dict[str, List[str]]:
    """The pipeline's tasks and, for each, the tasks it depends on."""
    dag_tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    return {name: sorted(task.get("dependentTasks", [])) for name, task in dag_tasks.items()}


def images(job: Dict[str, Any]) -> List[str]:
    """The container images the pipeline's executors run in."""
    executors = job["pipelineSpec"].get("deploymentSpec", {}).get("executors", {})
    return sorted({e["container"]["image"] for e in executors.values() if "container" in e})


def pipeline_root(job: Dict[str, Any]) -> Optional[str]:
    """The pipeline root compiled into a PipelineJob (None for a bare PipelineSpec)."""
    runtime = job.get("runtimeConfig") or {}
    return runtime.get("gcsOutputDirectory") or job["pipelineSpec"].get("defaultPipelineRoot")


def vertex_job(spec_path: str, project: str, region: str, pipeline_root_uri: Optional[str] = None,
               overrides: Optional[Dict[str, Any]] = None, display_name: Optional[str] = None,
               enable_caching: Optional[bool] = None,
               service_account: Optional[str] = None) -> Dict[str, Any]:
    """Describes the Vertex AI PipelineJob that :func:`submit_vertex` creates.

    Args:
      spec_path: the compiled spec (local or ``gs://``).
      project: Google Cloud project.
      region: Vertex AI region, e.g. ``europe-west4``.
      pipeline_root_uri: overrides the pipeline root compiled into the spec.
      overrides: runtime parameter values that differ from the spec's defaults.
      display_name: the job's name in the console; default the pipeline name.
      enable_caching: None keeps the compiled caching setting.
      service_account: the service account the job runs as; None: the default.

    Returns:
      The PipelineJob arguments, with every parameter's value spelled out.

    Raises:
      ValueError: an unknown parameter, or no ``gs://`` pipeline root.
    """
    job = read_spec(spec_path)
    known = parameters(job)
    unknown = sorted(set(overrides or {}) - set(known))
    if unknown:
        raise ValueError(f"{spec_path} has no runtime parameter {', '.join(unknown)}; "
                         f"its parameters: {', '.join(known) or 'none'}")
    root = pipeline_root_uri or pipeline_root(job)
    if not root or not root.startswith("gs://"):
        raise ValueError(f"Vertex AI needs a gs:// pipeline root; {spec_path} has "
                         f"{root or 'none'} (pass --pipeline-root)")
    values = {name: default for name, (_, default) in known.items()}
    values.update(overrides or {})
    return {"project": project, "location": region,
            "display_name": display_name or job["pipelineSpec"]["pipelineInfo"]["name"],
            "template_path": spec_path, "pipeline_root": root, "parameter_values": values,
            "enable_caching": enable_caching, "service_account": service_account}


def submit_vertex(job: Dict[str, Any]) -> str:
    """Creates the PipelineJob described by :func:`vertex_job`; returns its resource name."""
    from google.cloud import aiplatform  # pylint: disable=g-import-not-at-top
    arguments = {k: v for k, v in job.items() if k != "service_account"}
    pipeline_job = aiplatform.PipelineJob(**arguments)
    pipeline_job.submit(service_account=job["service_account"])
    return pipeline_job.resource_name
