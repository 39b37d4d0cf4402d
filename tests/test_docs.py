"""The README documents every setting, so no variable is a secret."""

from pathlib import Path

import pytest

from backdrop.settings import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.variable)
def test_every_setting_is_in_the_readme(setting):
    assert f"`{setting.variable}`" in README


def test_readme_starts_with_the_two_setup_commands():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "./run_development.sh" in first_block
    assert "./run_tests.sh" in first_block
