"""``zhongtai models`` (cli/models.py): training and the registry are in tests/ml; here,
the group and which families it trains."""

from __future__ import annotations

from collections.abc import Callable

from tests.cli.ran import Ran
from zhongtai.ml.spec import model_families
from zhongtai.settings import Settings


def test_models_help_lists_its_commands(zhongtai: Callable[..., Ran]) -> None:
    ran = zhongtai("models", "--help")
    assert ran.exit_code == 0, ran.output
    for command in ("train", "list", "ui"):
        assert f" {command} " in ran.text


def test_an_unknown_family_is_refused_naming_the_families(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    ran = zhongtai("models", "train", "credit_pd", "credit_scorecard")
    assert ran.exit_code == 2
    assert "unknown model family 'credit_scorecard'" in ran.text
    assert f"the families of ml/ are {', '.join(model_families(settings))}" in ran.text
    assert not settings.mlflow_dir.exists()  # refused before anything was trained


def test_a_spec_without_promotion_gates_is_not_a_family_to_train(
    zhongtai: Callable[..., Ran], settings: Settings
) -> None:
    assert (settings.ml_dir / "german_credit.yml").is_file()
    assert "german_credit" not in model_families(settings)
    ran = zhongtai("models", "train", "german_credit")
    assert ran.exit_code == 2
    assert "unknown model family 'german_credit'" in ran.text
