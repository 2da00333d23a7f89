#!/usr/bin/env python3
"""Write or check a role's argument_specs.yml and README from defaults/main.yml.

    argument-specs.py ROLE_DIR [--check]

defaults/main.yml is the role's manual: the comment lines right above each
variable describe it. A templated default names its type on a line of its own
right above it, e.g. `# type: int` (a templated list of mappings adds
`# elements: dict`); a variable whose values are fixed lists
them the same way, `# choices: off, on, auto`. This turns them into the `main` entry
point's options and into the README's "Role Variables" list (between the markers
<!-- variables --> and <!-- /variables -->), so the three never disagree;
--check exits 1 when either is out of date.
"""

import re
import sys
from pathlib import Path

import yaml


class Dumper(yaml.SafeDumper):
    """Indents list items under their key, as yamllint expects."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


TYPES = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    list: "list",
    dict: "dict",
}


def options(defaults: Path) -> dict:
    values = yaml.safe_load(defaults.read_text()) or {}
    described: dict[str, str] = {}
    comment: list[str] = []
    previous = ""  # a variable right below another shares its comment
    hints: dict[str, str] = {}
    hint = ""
    element_hints: dict[str, str] = {}
    element = ""
    choices: dict[str, list[str]] = {}
    allowed: list[str] = []
    for line in defaults.read_text().splitlines():
        if match := re.match(r"^# type: (\w+)$", line):
            hint = match[1]
        elif match := re.match(r"^# elements: (\w+)$", line):
            element = match[1]
        elif match := re.match(r"^# choices: (.+)$", line):
            allowed = [item.strip() for item in match[1].split(",")]
        elif line.startswith("# ") and not re.match(r"^# -+ ", line):
            comment.append(line[2:].strip())
            previous = ""
        elif match := re.match(r"^([a-z_][a-z0-9_]*):", line):
            described[match[1]] = " ".join(comment) or previous
            previous = described[match[1]]
            if hint:
                hints[match[1]], hint = hint, ""
            if element:
                element_hints[match[1]], element = element, ""
            if allowed:
                choices[match[1]], allowed = allowed, []
            comment = []
        elif not line.strip() or line.startswith("---"):
            comment, previous = [], ""
    result = {}
    for name, value in values.items():
        if not described.get(name):
            raise SystemExit(f"{defaults}: {name} has no comment line above it")
        templated = isinstance(value, str) and "{{" in value
        if templated and name not in hints:
            raise SystemExit(
                f"{defaults}: {name} is templated; name its type (# type: int)"
            )
        kind = hints[name] if templated else TYPES[type(value)]
        option = {"type": kind, "description": described[name]}
        if kind == "list":
            first = value[0] if isinstance(value, list) and value else ""
            option["elements"] = element_hints.get(
                name, "dict" if isinstance(first, dict) else "str"
            )
        if name in choices:
            option["choices"] = choices[name]
            if "{{" not in str(value) and str(value) not in choices[name]:
                raise SystemExit(f"{defaults}: {name}'s default is not a choice")
        if "{{" not in str(value):
            option["default"] = value
        result[name] = option
    return result


BEGIN, END = "<!-- variables -->", "<!-- /variables -->"


def readme_section(role: Path) -> str:
    """The README's Role Variables list: each default, then its description."""
    values = yaml.safe_load((role / "defaults/main.yml").read_text()) or {}
    described = options(role / "defaults/main.yml")
    parts = [BEGIN]
    for name, value in values.items():
        if isinstance(value, (list, dict)) and value:
            shown = yaml.dump({name: value}, Dumper=Dumper, sort_keys=False).rstrip()
            parts.append(f"```yaml\n{shown}\n```\n\n{described[name]['description']}")
        else:
            if isinstance(value, str) and "{{" in value:
                shown = f'{name}: "{value}"'
            else:
                flow = yaml.safe_dump({name: value}, default_flow_style=True, width=200)
                shown = flow.strip()[1:-1]
            parts.append(f"`{shown}`\n\n{described[name]['description']}")
    parts.append(END)
    return "\n\n".join(parts)


def with_variables(readme: str, section: str) -> str:
    if BEGIN not in readme or END not in readme:
        raise SystemExit(f"README lacks the {BEGIN} ... {END} markers")
    head, rest = readme.split(BEGIN, 1)
    return head + section + rest.split(END, 1)[1]


def main() -> None:
    role = Path(sys.argv[1])
    check = "--check" in sys.argv
    meta = yaml.safe_load((role / "meta/main.yml").read_text())
    spec = {
        "argument_specs": {
            "main": {
                "short_description": meta["galaxy_info"]["description"],
                "options": options(role / "defaults/main.yml"),
            }
        }
    }
    text = (
        "---\n# Generated from defaults/main.yml by ansible/bin/argument-specs.py:\n"
        "# edit the comments there, then run `make argument-specs`.\n"
        + yaml.dump(spec, Dumper=Dumper, sort_keys=False, width=88)
    )
    target = role / "meta/argument_specs.yml"
    readme_path = role / "README.md"
    readme = with_variables(readme_path.read_text(), readme_section(role))
    if check:
        if not target.exists() or target.read_text() != text:
            sys.exit(f"{target} is out of date: run make argument-specs")
        if readme_path.read_text() != readme:
            sys.exit(
                f"{readme_path} Role Variables are out of date: run make argument-specs"
            )
        return
    target.write_text(text)
    readme_path.write_text(readme)


if __name__ == "__main__":
    main()
