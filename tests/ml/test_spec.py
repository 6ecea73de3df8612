"""Specs: the committed ones load; a wrong one is refused with the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from zhongtai.ml.spec import SpecError, families_reading, load_spec, model_families
from zhongtai.settings import Settings

ML_DIR = Settings().ml_dir


def _write(tmp_path: Path, name: str, document: object) -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(document) if not isinstance(document, str) else document)
    return path


def _credit_pd() -> dict:
    return yaml.safe_load((ML_DIR / "credit_pd.yml").read_text())


def test_the_committed_specs_load() -> None:
    credit = load_spec("credit_pd")
    assert credit.data.feature_service == "credit_scoring_v1"
    assert credit.label == "is_first_payment_default"
    assert credit.algorithms.enabled() == ["scorecard", "lightgbm"]
    assert (credit.scaling.points, credit.scaling.odds, credit.scaling.pdo) == (600, 50, 20)
    assert credit.validation.out_of_time is not None and credit.promotion is not None
    german = load_spec(ML_DIR / "german_credit.yml")
    assert german.data.mart == "partner_portfolio_records" and german.label == "is_bad"
    # the book's 20 fields less its protected ones (sex and marital status, age, origin)
    assert german.features.include is not None and len(german.features.include) == 17
    cv = german.validation.cross_validation
    assert cv is not None and (cv.n_splits, cv.n_repeats) == (5, 5)
    # no dates: a holdout is what its gate reads
    assert german.validation.window == "holdout" and german.promotion is not None
    assert german.validation.holdout is not None and german.validation.holdout.share == 0.3


def test_every_spec_with_a_promotion_section_is_a_family_and_is_found_by_what_it_reads(
    tmp_path: Path,
) -> None:
    assert model_families() == ("credit_pd", "fraud", "german_credit")
    assert families_reading(marts={"partner_portfolio_records"}) == ("german_credit",)
    assert families_reading(feature_services={"credit_scoring_v1", "fraud_detection_v1"}) == (
        "credit_pd",
        "fraud",
    )
    # a mart the credit families reach only through their services does not retrain them
    assert families_reading(marts={"loan_performance_labels", "application_features"}) == ()
    # a spec without promotion is a spec, not a family
    project = tmp_path / "project"
    (project / "ml").mkdir(parents=True)
    document = yaml.safe_load((ML_DIR / "german_credit.yml").read_text())
    del document["promotion"]
    _write(project / "ml", "german_credit", document)
    settings = Settings(project_dir=project)
    assert model_families(settings) == ()
    assert families_reading(settings, marts={"partner_portfolio_records"}) == ()


def test_the_fraud_spec_reads_the_graph_and_sets_a_review_budget() -> None:
    fraud = load_spec("fraud")
    assert fraud.data.feature_service == "fraud_detection_v1"
    assert fraud.label == "is_first_payment_default"  # the rings' first-payment default
    assert fraud.algorithm == "lightgbm" and fraud.algorithms.enabled() == ["lightgbm"]
    assert fraud.review is not None and fraud.review.rate == 0.05
    assert fraud.features.monotone["ring_score"] == "increasing"
    assert fraud.fairness is not None and set(fraud.fairness.attributes) == {
        "age_years",
        "city_code",
    }
    # read for the report only: the service serves neither
    assert set(fraud.fairness.attributes) <= set(fraud.features.exclude)
    assert load_spec("credit_pd").review is None  # a credit score sends no one to review


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        (0, "review.rate: Input should be greater than 0 (got 0)"),
        (1, "review.rate: Input should be less than 1 (got 1)"),
        ("many", "review.rate: Input should be a valid number"),
    ],
)
def test_a_review_rate_outside_0_and_1_is_refused(
    tmp_path: Path, rate: object, message: str
) -> None:
    document = yaml.safe_load((ML_DIR / "fraud.yml").read_text())
    document["review"]["rate"] = rate
    path = _write(tmp_path, "fraud", document)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert f"{path}: {message}" in str(error.value)


def test_a_missing_field_is_named_with_the_file(tmp_path: Path) -> None:
    document = _credit_pd()
    del document["label"]
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert str(error.value) == f"{path}: label: Field required"


def test_a_bad_value_is_named_by_its_dotted_path(tmp_path: Path) -> None:
    document = _credit_pd()
    document["scaling"]["pdo"] = -20
    document["selection"]["max_correlation"] = 1.5
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert f"{path}: scaling.pdo: Input should be greater than 0 (got -20)" in message
    assert f"{path}: selection.max_correlation: Input should be less than or equal to 1" in message


def test_a_misspelt_key_is_refused_not_ignored(tmp_path: Path) -> None:
    document = _credit_pd()
    document["selection"]["min_vi"] = document["selection"].pop("min_iv")
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError, match=r"selection\.min_vi: Extra inputs are not permitted"):
        load_spec(path)


def test_inconsistent_choices_are_refused(tmp_path: Path) -> None:
    document = _credit_pd()
    document["algorithm"] = "lightgbm"
    del document["algorithms"]["lightgbm"]
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError, match="algorithm 'lightgbm' has no entry under algorithms"):
        load_spec(path)

    document = _credit_pd()
    document["features"]["exclude"].append("debt_to_income_ratio")
    document["data"]["mart"] = "application_features"
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert str(error.value).splitlines() == [
        f"{path}: data: give exactly one of feature_service or mart",
        f"{path}: features: debt_to_income_ratio: both excluded and constrained monotone",
    ]

    document = _credit_pd()
    document["algorithms"]["lightgbm"]["params"]["random_state"] = 1
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError, match=r"algorithms\.lightgbm: random_state: set by the spec"):
        load_spec(path)


def test_a_file_that_is_not_a_spec_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(_write(tmp_path, "broken", "name: [unclosed\n"))
    with pytest.raises(SpecError, match="expected a mapping of fields, got list"):
        load_spec(_write(tmp_path, "listed", "- a\n- b\n"))
    document = _credit_pd()
    with pytest.raises(SpecError, match="name: 'credit_pd' differs from the file name 'other'"):
        load_spec(_write(tmp_path, "other", document))
    unknown = r"credit_dp\.yml: no such spec; the specs are: .*credit_pd"
    with pytest.raises(SpecError, match=unknown):
        load_spec("credit_dp")


def test_the_production_specs_state_who_carries_the_burden_of_proof() -> None:
    for family in ("credit_pd", "fraud"):
        promotion = load_spec(family).promotion
        assert promotion is not None
        assert promotion.burden("prod") == "model"
        assert (promotion.burden("dev"), promotion.burden("test")) == ("harm", "harm")
        assert (promotion.confidence, promotion.min_events) == (0.95, 30)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("confidence", 95, "promotion.confidence: Input should be less than 1 (got 95)"),
        ("confidence", 0.3, "promotion.confidence: Input should be greater than or equal to 0.5"),
        ("min_events", 1, "promotion.min_events: Input should be greater than or equal to 2"),
        (
            "burden_of_proof",
            {"prod": "model", "staging": "harm"},
            "promotion.burden_of_proof.staging.[key]: Input should be 'dev', 'test' or 'prod'",
        ),
        (
            "burden_of_proof",
            {"prod": "nobody"},
            "promotion.burden_of_proof.prod: Input should be 'model' or 'harm'",
        ),
        ("min_evnts", 30, "promotion.min_evnts: Extra inputs are not permitted"),
        ("fairness_evidence", "required", "fairness_evidence is replaced by burden_of_proof"),
    ],
)
def test_a_bad_promotion_rule_is_refused(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    document = _credit_pd()
    document["promotion"][field] = value
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert f"{path}: " in str(error.value) and message in str(error.value)


def _german_credit() -> dict:
    return yaml.safe_load((ML_DIR / "german_credit.yml").read_text())


def test_a_gated_spec_needs_rows_to_gate_on_and_one_window_only(tmp_path: Path) -> None:
    document = _german_credit()
    del document["validation"]["holdout"]
    path = _write(tmp_path, "german_credit", document)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert f"{path}: (top level): promotion needs rows to gate on" in str(error.value)
    assert "validation.holdout" in str(error.value)

    document = _credit_pd()
    document["validation"]["holdout"] = {"share": 0.3}
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError, match="give out_of_time or holdout, not both"):
        load_spec(path)

    document = _german_credit()
    document["validation"]["holdout"]["share"] = 1
    path = _write(tmp_path, "german_credit", document)
    with pytest.raises(SpecError, match=r"validation\.holdout\.share: Input should be less than 1"):
        load_spec(path)


@pytest.mark.parametrize(
    ("fairness", "message"),
    [
        (
            {"attribute": "age_years", "bands": [18, 30, 120]},
            "fairness: attribute and bands are replaced by attributes",
        ),
        ({"attributes": {}}, "fairness.attributes: Dictionary should have at least 1 item"),
        (
            {"attributes": {"age_years": {"bands": [18, 30, 25]}}},
            "fairness.attributes.age_years: bands must be strictly ascending",
        ),
        (
            {"attributes": {"city_code": {"prefix": 4, "groups": {"north": ["1101"]}}}},
            "fairness.attributes.city_code: give one of bands, groups or prefix",
        ),
        (
            {"attributes": {"city_code": {"groups": {"a": ["1101"], "b": ["1101", "3101"]}}}},
            "fairness.attributes.city_code: groups: 1101 in more than one group",
        ),
        (
            {"attributes": {"city_code": {"prefix": 0}}},
            "fairness.attributes.city_code.prefix: Input should be greater than or equal to 1",
        ),
    ],
)
def test_a_bad_fairness_section_is_refused_naming_the_attribute(
    tmp_path: Path, fairness: dict, message: str
) -> None:
    document = _credit_pd()
    document["fairness"] = fairness
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert f"{path}: {message}" in str(error.value)


def test_a_protected_feature_needs_a_written_justification(tmp_path: Path) -> None:
    document = _credit_pd()
    document["features"]["protected"]["age_years"] = "ok"
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert (
        f"{path}: features: protected: age_years: give a written justification (a sentence "
        "of 5 words or more" in str(error.value)
    )

    document = _credit_pd()
    document["features"]["exclude"].append("age_years")
    path = _write(tmp_path, "credit_pd", document)
    with pytest.raises(SpecError, match="age_years: both excluded and justified under protected"):
        load_spec(path)

    document = _german_credit()
    document["features"]["protected"] = {"age_in_years": "Age is sound on this book, we say."}
    path = _write(tmp_path, "german_credit", document)
    with pytest.raises(SpecError, match="protected features not in include: age_in_years"):
        load_spec(path)
