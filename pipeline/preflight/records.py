"""The local pipeline root's own records of artifacts, which answer importer and resolver tasks.

On Vertex every artifact a task writes is recorded in the project's metadata
store, and a resolver task is a query on it: TFX's latest-blessed-model
resolver asks for the latest ``tfx.ModelBlessing`` whose ``blessed`` is 1,
then for the ``tfx.Model`` named by that blessing's ``current_model_id``.
Pre-flight records each artifact as one JSON file under
``ROOT/PIPELINE/records/`` (through ``tf.io.gfile``, so the root may be
``gs://``) and answers the same queries from those files: earlier pre-flight
runs in the same root are what the resolver sees.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Dict, List, Optional

import yaml

RECORDS_FOLDER = "records"
_CLAUSE = re.compile(r"^\s*([\w.]+)\s*(=|!=)\s*(.+?)\s*$")


def schema_title(artifact_type: Dict[str, Any]) -> str:
    """The title of an artifact type: its ``schemaTitle`` or its instance schema's title."""
    if "schemaTitle" in artifact_type:
        return artifact_type["schemaTitle"]
    schema = yaml.safe_load(artifact_type.get("instanceSchema", "")) or {}
    return schema.get("title", "system.Artifact")


class Records:
    """The artifacts pre-flight runs recorded under one pipeline root, for one pipeline."""

    def __init__(self, root: str, pipeline_name: str):
        self.folder = f"{root.rstrip('/')}/{pipeline_name}/{RECORDS_FOLDER}"

    def add(self, run_id: str, task: str, key: str, artifact: Dict[str, Any]) -> None:
        """Records ``artifact`` (a RuntimeArtifact in JSON form) as output ``key`` of ``task``."""
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        tf.io.gfile.makedirs(self.folder)
        record = {"run_id": run_id, "task": task, "key": key, "created": time.time(),
                  "artifact": artifact}
        path = f"{self.folder}/{run_id}.{task}.{key}.json"
        with tf.io.gfile.GFile(path, "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)

    def all(self) -> List[Dict[str, Any]]:
        """Every record, oldest first."""
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        if not tf.io.gfile.isdir(self.folder):
            return []
        records = []
        for name in tf.io.gfile.listdir(self.folder):
            if name.endswith(".json"):
                with tf.io.gfile.GFile(f"{self.folder}/{name}") as f:
                    records.append(json.load(f))
        return sorted(records, key=lambda record: record["created"])

    def find(self, query_filter: str, limit: int = 1) -> List[Dict[str, Any]]:
        """The latest ``limit`` artifacts that match a Vertex artifact filter, newest first.

        Raises:
          ValueError: a filter clause this store cannot answer, quoted.
        """
        clauses = [_clause(text) for text in re.split(r"\s+AND\s+", query_filter.strip())]
        found = [record["artifact"] for record in reversed(self.all())
                 if all(_matches(record["artifact"], *clause) for clause in clauses)]
        return found[:max(limit, 1)]

    def by_uri(self, uri: str, title: str) -> Optional[Dict[str, Any]]:
        """The latest recorded artifact of type ``title`` at ``uri`` (an importer's reuse)."""
        for record in reversed(self.all()):
            artifact = record["artifact"]
            if artifact["uri"] == uri and schema_title(artifact["type"]) == title:
                return artifact
        return None


def _clause(text: str):
    match = _CLAUSE.match(text)
    if not match:
        raise ValueError(f"artifact filter clause {text!r} is not understood")
    key, operator, value = match.groups()
    if value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    else:
        try:
            value = float(value)
        except ValueError:
            pass
    if not (key in ("schema_title", "state", "name", "uri") or _metadata_key(key)):
        raise ValueError(f"artifact filter clause {text!r}: pre-flight answers schema_title, "
                         f"state, name, uri and metadata.KEY.number_value|string_value|"
                         f"bool_value")
    return key, operator, value


def _metadata_key(key: str) -> Optional[str]:
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "metadata" and parts[2] in (
            "number_value", "string_value", "bool_value"):
        return parts[1]
    return None


def _matches(artifact: Dict[str, Any], key: str, operator: str, value: Any) -> bool:
    if key == "schema_title":
        actual: Any = schema_title(artifact.get("type", {}))
    elif key == "state":
        actual = "LIVE"  # pre-flight never deletes or abandons an artifact
    elif key in ("name", "uri"):
        actual = artifact.get(key)
    else:
        actual = artifact.get("metadata", {}).get(_metadata_key(key))
    equal = actual == value or (isinstance(value, float) and isinstance(actual, (int, float))
                                and float(actual) == value)
    return equal if operator == "=" else not equal
