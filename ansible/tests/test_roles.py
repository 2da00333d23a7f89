"""Each role documents every variable in three places that agree."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(path for path in (ROOT / "roles").iterdir() if path.is_dir())


@pytest.mark.parametrize("role", ROLES, ids=lambda path: path.name)
def test_argument_specs_match_defaults(role: Path) -> None:
    """meta/argument_specs.yml is what defaults/main.yml's comments say."""
    result = subprocess.run(
        [sys.executable, ROOT / "ansible/bin/argument-specs.py", role, "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("role", ROLES, ids=lambda path: path.name)
def test_readme_names_every_variable(role: Path) -> None:
    """The role README has a paragraph for each default variable."""
    defaults = yaml.safe_load((role / "defaults/main.yml").read_text()) or {}
    readme = (role / "README.md").read_text()
    missing = [
        name
        for name in defaults
        if not re.search(rf"^`?{name}:", readme, flags=re.MULTILINE)
    ]
    assert not missing, f"{role.name}/README.md does not describe {missing}"


@pytest.mark.parametrize("role", ROLES, ids=lambda path: path.name)
def test_variables_carry_the_role_prefix(role: Path) -> None:
    """Every default is named after its role."""
    defaults = yaml.safe_load((role / "defaults/main.yml").read_text()) or {}
    stray = [name for name in defaults if not name.startswith(f"{role.name}_")]
    assert not stray


def test_a_value_outside_the_choices_is_refused(tmp_path: Path) -> None:
    """ansible-core refuses a worker class the gunicorn role does not offer,
    naming the choices (the check a role runs before its first task)."""
    spec = ROOT / "roles/gunicorn/meta/argument_specs.yml"
    playbook = tmp_path / "validate.yml"
    playbook.write_text(
        "- hosts: localhost\n"
        "  gather_facts: false\n"
        "  connection: local\n"
        "  tasks:\n"
        "    - name: Validate as the role would\n"
        "      ansible.builtin.validate_argument_spec:\n"
        "        argument_spec: >-\n"
        f"          {{{{ (lookup('file', '{spec}') | from_yaml)"
        ".argument_specs.main.options }}\n"
        "        provided_arguments:\n"
        "          gunicorn_worker_class: polls.workers.Bogus\n"
    )
    result = subprocess.run(
        [
            Path(sys.executable).parent / "ansible-playbook",
            "-i",
            "localhost,",
            playbook,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "gunicorn_worker_class must be one of" in result.stdout, result.stdout
