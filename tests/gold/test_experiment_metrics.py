"""gold.experiment_metrics: the multiple-comparison correction follows its setting (checked against statsmodels)."""

from __future__ import annotations

import pandas as pd
import pytest
from pyspark.sql import SparkSession
from statsmodels.stats.multitest import multipletests

from lakehouse.catalog import load_catalog
from tests.generated_run import GeneratedRun

INPUTS = ("gold.experiment_daily", "silver.experiments")


def _metrics(spark: SparkSession, run: GeneratedRun, correction: str) -> pd.DataFrame:
    """The declared build, with ``experiment_correction`` set to ``correction``, on the generated run's daily sums."""
    settings = run.settings.model_copy(update={"experiment_correction": correction})
    table = load_catalog(settings).get("gold.experiment_metrics")
    assert table.receives == "pinned" and set(table.inputs) == set(INPUTS)
    output = table.build_function()({table_id: run.table(table_id) for table_id in INPUTS})
    return output.data.toPandas()


@pytest.mark.parametrize(("correction", "method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_p_values_use_the_configured_correction(
    spark: SparkSession, generated_run: GeneratedRun, correction: str, method: str
) -> None:
    rows = _metrics(spark, generated_run, correction)
    # The family: an experiment's goal and secondary metrics x treatment variants that have a p-value.
    tested = rows[rows["role"].isin(["goal", "secondary"]) & rows["p_value"].notna()]
    assert tested["experiment_id"].nunique() == 2 and len(tested) >= 8
    for _experiment, family in tested.groupby("experiment_id"):
        expected = multipletests(family["p_value"].to_numpy(), method=method)[1]
        assert family["adjusted_p_value"].tolist() == pytest.approx(expected.tolist(), abs=1e-12)
    assert rows.loc[rows["role"] == "guardrail", "adjusted_p_value"].isna().all()


def test_benjamini_hochberg_is_never_stricter_than_holm(spark: SparkSession, generated_run: GeneratedRun) -> None:
    key = ["experiment_id", "variant", "metric"]
    holm = _metrics(spark, generated_run, "holm").set_index(key)["adjusted_p_value"].dropna()
    bh = _metrics(spark, generated_run, "bh").set_index(key)["adjusted_p_value"].dropna()
    assert list(bh.index) == list(holm.index)
    assert (bh <= holm + 1e-15).all() and (bh < holm).any()
