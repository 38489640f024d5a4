"""Label Studio tasks (to import) and exports (to merge), for ``skfral query / merge``.

Formats, as documented by Label Studio ("Label Studio Task Format", "Export
annotations"; labelstud.io/guide/task_format and guide/export):

- **import**: a JSON list of tasks, each ``{"data": {...}}``; the labeling
  config refers to data keys with ``$key``. skfral writes ``skfral_id`` (the
  row id), ``group``, ``score``, ``reason`` and ``text`` (a one-line summary of
  a table row) or ``image`` (the image's path or URL), and a labeling config
  (``to_label.label_config.xml``) with a ``<Choices name="TARGET">`` control
  listing the known classes.
- **export, JSON**: the tasks with their ``annotations``, each a list of
  ``result`` items; a ``choices`` item holds ``value: {"choices": [label]}``.
  Cancelled annotations (``was_cancelled``) are ignored.
- **export, JSON_MIN**: one flat dict per task: the data keys plus the
  control's name mapped to the label (a string, or ``{"choices": [...]}``).
- **export, CSV**: the same flat columns as JSON_MIN (read by the CSV path of
  :func:`skfral.experiment.merge_labels`, id column ``skfral_id``).
"""

import json
from xml.sax.saxutils import escape, quoteattr

import numpy as np

__all__ = ["label_studio_config", "label_studio_tasks", "read_label_studio_json"]

ID_KEY = "skfral_id"


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def label_studio_tasks(batch, data):
    """The batch as Label Studio import tasks (a list of ``{"data": {...}}``)."""
    tasks = []
    skip = {data.id_name, data.target, "reason", "score", "group", "image"}
    for _, row in batch.iterrows():
        item = {
            ID_KEY: _plain(row[data.id_name]),
            "group": _plain(row["group"]),
            "score": _plain(row["score"]),
            "reason": row["reason"],
        }
        if data.kind == "images":
            item["image"] = row["image"]
        else:
            item["text"] = "; ".join(
                f"{c}={_plain(row[c])}" for c in batch.columns if c not in skip
            )
        tasks.append({"data": item})
    return tasks


def label_studio_config(data):
    """A labeling config: the row (text or image) and one choice per known class."""
    source = (
        '<Image name="image" value="$image"/>'
        if data.kind == "images"
        else '<Text name="text" value="$text"/>'
    )
    to_name = "image" if data.kind == "images" else "text"
    choices = "\n".join(
        f"    <Choice value={quoteattr(str(c))}/>" for c in data.classes
    )
    return (
        "<View>\n"
        f"  {source}\n"
        '  <Text name="reason" value="$reason"/>\n'
        f"  <Choices name={quoteattr(data.target)} toName={quoteattr(to_name)} "
        'choice="single">\n'
        f"{choices}\n"
        "  </Choices>\n"
        f"  <!-- skfral: label {escape(data.target)!s} -->\n"
        "</View>\n"
    )


def _choice(value, where):
    if isinstance(value, dict) and "choices" in value:
        value = value["choices"]
    if isinstance(value, list):
        if len(value) != 1:
            raise ValueError(f"{where} holds {len(value)} choices: expected exactly 1")
        value = value[0]
    if value is None or str(value).strip() == "":
        return None
    return str(value).strip()


def read_label_studio_json(path, target):
    """``[(id, label or None, where)]`` from a Label Studio JSON or JSON_MIN export.

    Raises
    ------
    ValueError
        Not a list of tasks, a task without ``skfral_id``, an annotation with
        several choices, or annotators who disagree, listing every bad task.
    """
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"labels={str(path)!r} is not valid JSON ({exc}): expected a Label Studio "
            "JSON or JSON_MIN export."
        ) from None
    if not isinstance(tasks, list):
        raise ValueError(
            f"labels={str(path)!r} holds a JSON {type(tasks).__name__}: expected the "
            "list of tasks of a Label Studio export."
        )
    rows, bad = [], []
    for k, task in enumerate(tasks):
        where = f"task {k}"
        if not isinstance(task, dict):
            bad.append(f"{where}: not a task object")
            continue
        data = task.get("data", task)
        if not isinstance(data, dict) or ID_KEY not in data:
            bad.append(f"{where}: no {ID_KEY!r} in its data (not a task skfral wrote)")
            continue
        rid = data[ID_KEY]
        where = f"task {k} ({ID_KEY}={rid!r})"
        try:
            if "annotations" in task:
                labels = set()
                for ann in task["annotations"] or []:
                    if ann.get("was_cancelled"):
                        continue
                    for item in ann.get("result", []):
                        if item.get("type") == "choices" and item.get("from_name") in (
                            target,
                            None,
                        ):
                            labels.add(_choice(item.get("value"), where))
                labels.discard(None)
                if len(labels) > 1:
                    raise ValueError(
                        f"{where}: annotators disagree ({', '.join(sorted(labels))})"
                    )
                label = labels.pop() if labels else None
            else:  # JSON_MIN: the control's name maps to the label
                label = _choice(task.get(target), where)
        except ValueError as exc:
            bad.append(str(exc))
            continue
        rows.append((None if rid is None else str(rid), label, where))
    if bad:
        raise ValueError(
            f"labels={str(path)!r} has {len(bad)} bad task(s); nothing was merged: "
            + "; ".join(bad)
        )
    return rows
