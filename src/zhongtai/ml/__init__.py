"""Credit models: specs in ``ml/``, and the steps that turn a spec and rows into models.

- `zhongtai.ml.spec`: load and check ``ml/<family>.yml`` (light: no heavy imports).
- `zhongtai.ml.data`: a spec's modelling rows from the platform; out-of-time and
  cross-validation splits.
- `zhongtai.ml.features`: feature selection (constant, information value, stability,
  correlation) and its report.
- `zhongtai.ml.train`: the scorecard (optbinning, PDO points) and LightGBM.
- `zhongtai.ml.evaluate`: AUC, Gini, KS, Brier, calibration, PSI, fairness by band.

Everything returns plain data and fitted objects: tracking and registering them is left to
the caller (MLflow), so these steps run the same in a test, a benchmark or a DAG.
"""
