"""What .ci/run hands the linters that cannot read a file as it is.

python .ci/lint_inputs.py workflow action.yml OUT.yml
    action.yml's steps as a reusable workflow's job, so actionlint checks their
    expressions, contexts and step outputs (it lints workflows, not action metadata).
python .ci/lint_inputs.py scripts OUT_DIR FILE...
    every shell script in the workflows, the action and the GitLab pipeline, one file each,
    for shellcheck.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.S)
GITLAB_SCRIPTS = ("before_script", "script", "after_script")


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    return document


def action_as_workflow(action: dict[str, Any]) -> dict[str, Any]:
    inputs = {
        name: {"description": spec.get("description", ""), "type": "string", "required": False}
        for name, spec in action.get("inputs", {}).items()
    }
    outputs = {name: spec["value"] for name, spec in action.get("outputs", {}).items()}
    return {
        "name": f"{action['name']} (action.yml's steps, for actionlint)",
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {
            "action": {
                "runs-on": "ubuntu-latest",
                "outputs": outputs,
                "steps": action["runs"]["steps"],
            }
        },
    }


def shell_scripts(path: Path) -> Iterator[tuple[str, str]]:
    """(name, script) for each shell script in a workflow, an action or a GitLab pipeline."""
    document = load(path)
    if "runs" in document:
        steps = document["runs"].get("steps", [])
        yield from step_scripts(path.stem, steps)
    elif "jobs" in document:
        for job_name, job in document["jobs"].items():
            yield from step_scripts(f"{path.stem}-{job_name}", job.get("steps", []))
    else:
        for job_name, job in document.items():
            lines = [line for key in GITLAB_SCRIPTS for line in gitlab_lines(job, key)]
            if lines:
                yield f"{path.stem.lstrip('.')}-{job_name.lstrip('.')}", "\n".join(lines)


def step_scripts(prefix: str, steps: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    for index, step in enumerate(steps):
        if "run" in step and step.get("shell", "bash") == "bash":
            # An expression is pasted into the script before it runs: stand in a word for it.
            yield f"{prefix}-{step.get('id', index)}", EXPRESSION.sub("EXPRESSION", step["run"])


def gitlab_lines(job: object, key: str) -> list[str]:
    return list(job.get(key, [])) if isinstance(job, dict) else []


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "workflow":
        workflow = action_as_workflow(load(Path(argv[1])))
        Path(argv[2]).write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")
        return 0
    if len(argv) >= 3 and argv[0] == "scripts":
        out = Path(argv[1])
        for source in argv[2:]:
            for name, script in shell_scripts(Path(source)):
                (out / f"{name}.sh").write_text(
                    f"#!/usr/bin/env bash\n{script}\n", encoding="utf-8"
                )
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
