"""Credit and fraud models: specs in ``ml/``, and the steps from a spec to a champion.

- `zhongtai.ml.spec`: load and check ``ml/<family>.yml`` (light: no heavy imports).
- `zhongtai.ml.data`: a spec's modelling rows from the platform; out-of-time, holdout
  and cross-validation splits; the protected columns the contracts mark.
- `zhongtai.ml.validate`: repeated stratified cross-validation of any spec
  (``zhongtai models cv``).
- `zhongtai.ml.select`: feature selection (constant, information value, stability,
  correlation) and its report.
- `zhongtai.ml.train`: the scorecard (optbinning, PDO points) and LightGBM.
- `zhongtai.ml.evaluate`: AUC, Gini, KS, Brier, calibration, PSI, fairness by band,
  AUPRC and the review budget, with the intervals the gate reads.
- `zhongtai.ml.intervals`: DeLong intervals for AUC and a paired AUC difference, and a
  seeded bootstrap for the fairness gap and PSI.
- `zhongtai.ml.export`: a fitted model written as files that load without pickle.
- `zhongtai.ml.scoring`: an exported model loaded from those files and scored (with
  reasons), with numpy and LightGBM only: what serving imports, never the trainer.
- `zhongtai.ml.scaling`: probabilities of default to points and odds, and back.
- `zhongtai.ml.plots`: ROC, KS, calibration, score distribution, precision-recall.
- `zhongtai.ml.promote`: the promotion gate, a pure decision over metrics and their
  intervals, with the burden of proof the spec sets for the environment.

These return plain data and objects, so they run the same in a test, a benchmark or a
DAG. MLflow sits at the edge: `zhongtai.ml.track` (runs), `zhongtai.ml.register`
(versions, aliases, the loader) and `zhongtai.ml.retrain`, which strings it all together.
"""
