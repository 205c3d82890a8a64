"""Pre-flight: runs a compiled Kubeflow/Vertex pipeline spec on this machine, as the launcher would.

``imagepipe compile`` writes a KFP v2 PipelineSpec that the cloud runs task by
task, each in a container of the imagepipe image. Pre-flight runs the same
spec here, before the image is pushed and the job paid for:

* :mod:`.spec` reads the spec: its tasks in DAG order, the runtime parameters
  (``--param NAME=VALUE`` over the compiled defaults) and every task's inputs.
* :mod:`.placeholders` resolves ``{{$}}`` (the ExecutorInput JSON) and the
  ``{{$.inputs...}}`` / ``{{$.outputs...}}`` placeholders of a command line.
* :mod:`.launcher` runs a container task's command and arguments as a
  subprocess of this environment (the image is built from the same code and
  pins), its pre-cache driver first, and reads back the executor output.
* :mod:`.records` keeps every artifact a task wrote under the local pipeline
  root, and answers the importer and resolver tasks (latest blessed model) from
  those records as Vertex answers them from its metadata store.
* :mod:`.runner` runs the whole spec and times every task.
"""
