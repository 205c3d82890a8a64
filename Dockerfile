# The image every component of a compiled imagepipe pipeline runs in
# (`imagepipe compile TARGET --image ...`): the TFX 1.16 image plus this package, so that
# the custom executors (imagepipe.components.*), the preprocessing_fn and the
# Trainer's run_fn import by their dotted paths.
#
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/imagepipe:TAG .
#   docker push REGION-docker.pkg.dev/PROJECT/REPO/imagepipe:TAG
#
# The pinned stack (constraints/$STACK.txt, the one matching the base image's TFX) is
# installed over the base image's, so the containers run what the tests ran. The TFX 1.21
# stack: --build-arg TFX_IMAGE=gcr.io/tfx-oss-public/tfx:1.21.0 --build-arg STACK=tfx-1.21. The base image's KubeflowV2 entrypoint
# (python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor) is
# what the compiled spec calls; the last step checks that it and imagepipe import.
ARG TFX_IMAGE=gcr.io/tfx-oss-public/tfx:1.16.0
FROM ${TFX_IMAGE}
ARG STACK=tfx-1.16

WORKDIR /imagepipe
COPY setup.py README.md ./
COPY constraints ./constraints
COPY components ./components
COPY data ./data
COPY pipeline ./pipeline
COPY serving ./serving

RUN python -m pip install --no-cache-dir -c "constraints/${STACK}.txt" ".[kubeflow]" \
 && python -c "import imagepipe.pipeline.pipeline, imagepipe.components.parameterized; \
import tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor" \
 && imagepipe models

# Keep the base image's ENTRYPOINT: KubeflowV2DagRunner sets the command itself.
WORKDIR /
