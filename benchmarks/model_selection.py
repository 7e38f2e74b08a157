"""Label-free model selection: does injected-anomaly validation pick good detectors?

For every data set and seed (PROTOCOL.md split: at most 20,000 rows, stratified 70/30,
StandardScaler on the train part) the train part is split once more, without labels, into a
fit part (80%) and a validation part (20%). Every candidate is fitted **once** on the fit part;
that one fit gives

* its label-free validation statistics: AUPR / AUROC of the validation rows (taken as normal)
  against anomalies injected into them, for several injectors, and its validation scores
  (for model centrality), and
* its test AUROC / AUPR (the test labels are read only here, to evaluate).

The report then compares label-free strategies on the same cached fits:

* ``injection`` (ours, :func:`skanomaly.model_selection.make_injection_scorer`'s default):
  mean AUPR over Gaussian noise of 1 and 3 standard deviations and SMOTE + noise (1 s.d.);
* ``fung``: injected-anomaly validation in the manner of Fung et al. (2023), with ADBench's
  four synthetic anomaly types (local, global, cluster, dependency) generated from the
  validation rows;
* ``centrality``: model centrality of Goswami et al. (2023), mean Kendall tau with the other
  candidates' validation scores;
* ``borda``: Goswami et al.'s combination of surrogate metrics, here the Borda count of
  ``injection`` and ``centrality``;

and reports, per candidate set, the chosen candidate's test AUROC / AUPR, the default
candidate's, the mean candidate's, the oracle best (chosen with test labels, an upper bound),
and the Spearman correlation between each strategy's validation statistic and the candidates'
true test AUPR.

Second round (after the first ADBench measurement missed the issue's target): the zoo gets one
more candidate, the average of its members' normalised scores (``Ens_<zoo>_<normalisation>``,
:class:`skanomaly.model_selection.AverageEnsemble`), computed from the members' cached scores
of the same fits (fit-part training scores normalise; validation, test and injected scores are
averaged): no refit. Its normalisation and the selection strategy were chosen on ``dev`` and
committed before the ADBench run.

Suites: ``dev`` (synthetic and scikit-learn data, NOT the ADBench sets: the strategy is chosen
here) and ``adbench`` (the 31 shared sets, measured once with the chosen strategy).

Results are appended to a CSV (one row per data set, seed and candidate) and the validation
scores cached as ``.npz`` beside it, so an interrupted run resumes where it stopped.

Usage::

    python benchmarks/model_selection.py run --suite dev --zoo pyod anorand
    python benchmarks/model_selection.py run --suite adbench --zoo pyod   # + Ens_pyod_*
    python benchmarks/model_selection.py run --suite adbench --zoo pyod anorand grid
    python benchmarks/model_selection.py report --suite dev
    python benchmarks/model_selection.py series [--series 8] [--max-train 5000]
"""

import argparse
import csv
import math
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "model_selection_results"
DEFAULT = {"pyod": "IForest", "grid": "AnoRand_w0.2_n3.0"}
TS_DEFAULT = "IForest_w100"  # TimeSeriesDetector's default window, PyOD's default detector


# ---------------------------------------------------------------------- data
def dev_sets():
    """Development data: synthetic and scikit-learn sets, none of them an ADBench set."""
    from sklearn.datasets import load_digits, make_classification

    from skanomaly.datasets import make_anomalies

    sets = {}
    for kind in ("global", "local", "cluster", "dependency"):
        sets[f"synth_{kind}"] = make_anomalies(2000, 10, anomaly_type=kind, random_state=101)
    for kind in ("local", "dependency"):
        sets[f"synth_{kind}_d30"] = make_anomalies(
            3000, 30, anomaly_type=kind, contamination=0.08, n_clusters=5, random_state=102
        )
    X, y = make_classification(
        3000, 20, n_informative=6, weights=[0.95, 0.05], flip_y=0.0, random_state=103
    )
    sets["sk_classification"] = (X, y)
    X, y = load_digits(return_X_y=True)
    normal, anomalies = X[y != 0], X[y == 0][:80]
    sets["sk_digits0"] = (np.r_[normal, anomalies], np.r_[np.zeros(len(normal)), np.ones(80)])
    from pyod.utils.data import generate_data

    Xa, Xb, ya, yb = generate_data(
        n_train=1500, n_test=500, n_features=15, contamination=0.05, offset=3, random_state=104
    )
    sets["pyod_generate"] = (np.r_[Xa, Xb], np.r_[ya, yb])
    return sets


def load_suite(suite):
    if suite == "dev":
        return dev_sets()
    from skanomaly.benchmark import shared_data_dir

    folder = shared_data_dir()
    if folder is None:
        raise SystemExit("No shared data folder (set SKANOMALY_SHARED_DATA).")
    return {path.stem: str(path) for path in sorted((folder / "tabular").glob("*.npz"))}


# ---------------------------------------------------------------------- candidates
def candidates(zoo, seed):
    """name -> unfitted detector, for one candidate family."""
    if zoo == "pyod":
        from pyod.models.ecod import ECOD
        from pyod.models.hbos import HBOS
        from pyod.models.iforest import IForest
        from pyod.models.knn import KNN
        from pyod.models.lof import LOF

        return {
            "IForest": IForest(random_state=seed),
            "KNN": KNN(),
            "LOF": LOF(),
            "ECOD": ECOD(),
            "HBOS": HBOS(),
        }
    if zoo in ("anorand", "grid"):
        from skanomaly.detectors import AnoRandDetector
        from skanomaly.injectors import SMOTENoiseInjector

        grid = [(0.2, 3.0)] if zoo == "anorand" else [
            (w, noise) for w in (0.2, 0.8) for noise in (1.0, 3.0)
        ]
        return {
            f"AnoRand_w{w}_n{noise}": AnoRandDetector(
                w=w,
                injector=SMOTENoiseInjector(noise_level=noise),
                random_state=seed,
                device="cpu",
            )
            for w, noise in grid
        }
    raise ValueError(zoo)


# ---------------------------------------------------------------------- injection
def injected_sets(X_valid, seed):
    """name -> injected anomalies for the validation rows (same for every candidate)."""
    from skanomaly.injectors import GaussianNoiseInjector, SMOTENoiseInjector
    from skanomaly.model_selection._injectors import _anomaly_type_injectors
    from skanomaly.model_selection._scorer import _standardizer

    Z, back = _standardizer(X_valid, True)
    n = max(1, math.ceil(0.1 * len(Z)))
    sets = {}
    ours = {
        "gauss1": GaussianNoiseInjector(noise_level=1.0),
        "gauss3": GaussianNoiseInjector(noise_level=3.0),
        "smote1": SMOTENoiseInjector(noise_level=1.0),
    }
    for i, (name, injector) in enumerate(ours.items()):
        sets[name] = back(injector._generate_checked(Z, n, np.random.default_rng([seed, i])).X)
    for i, injector in enumerate(_anomaly_type_injectors()):
        rng = np.random.default_rng([seed, 10 + i])
        sets[f"ad_{injector.kind}"] = back(injector._generate_checked(Z, n, rng).X)
    return sets


# ---------------------------------------------------------------------- run
FIELDS = ["suite", "dataset", "seed", "zoo", "candidate", "test_auroc", "test_aupr", "fit_s"]


# The score-averaging ensembles of a zoo (second round of issue 16): name -> (zoos of its
# members, normalisation). Computed from the members' cached scores of the SAME fits (their
# fit-part training scores normalise, their validation / test / injected scores are averaged):
# no refit, exactly what DetectorSelector(ensemble=...) does with its fitted candidates.
ENSEMBLES = {
    "Ens_pyod_rank": (("pyod",), "rank"),
    "Ens_pyod_zscore": (("pyod",), "zscore"),
    "Ens_zoo_rank": (("pyod", "anorand"), "rank"),
    "Ens_zoo_zscore": (("pyod", "anorand"), "zscore"),
}


def ensemble_members(ensemble):
    zoos, _ = ENSEMBLES[ensemble]
    return [cand for zoo in zoos for cand in candidates(zoo, 0)]


def _scores_path(cache, name, seed, cand):
    return cache / f"{name}__{seed}__{cand}.npz"


def _row(suite, name, seed, zoo, cand, fit_s, s_valid, s_test, y_test, s_injected):
    """One CSV row: test AUROC / AUPR and the injection statistics of one candidate."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    row = {"suite": suite, "dataset": name, "seed": seed, "zoo": zoo, "candidate": cand,
           "fit_s": round(fit_s, 3)}
    finite = np.isfinite(s_test).all() and np.isfinite(s_valid).all()
    row["test_auroc"] = roc_auc_score(y_test, s_test) if finite else np.nan
    row["test_aupr"] = average_precision_score(y_test, s_test) if finite else np.nan
    for set_name, s_inj in s_injected.items():
        y_inj = np.r_[np.zeros(len(s_valid)), np.ones(len(s_inj))]
        both = np.r_[s_valid, s_inj]
        ok = np.isfinite(both).all()
        row[f"{set_name}_aupr"] = average_precision_score(y_inj, both) if ok else np.nan
        row[f"{set_name}_auroc"] = roc_auc_score(y_inj, both) if ok else np.nan
    return row


def ensemble_row(args, cache, name, seed, ensemble, y_test):
    """The ensemble's row from its members' cached scores; None until every member is cached."""
    from skanomaly.model_selection._ensemble import _average

    members = ensemble_members(ensemble)
    paths = [_scores_path(cache, name, seed, cand) for cand in members]
    if not all(path.exists() for path in paths):
        return None
    loaded = [dict(np.load(path)) for path in paths]
    _, normalization = ENSEMBLES[ensemble]
    if not all(np.isfinite(m["train"]).all() for m in loaded):
        return None  # a member without finite training scores cannot be normalised
    refs = [np.sort(m["train"].astype(np.float64)) for m in loaded]

    def mean(key):
        return _average(refs, [m[key].astype(np.float64) for m in loaded], normalization)

    s_valid = mean("valid")
    injected = {key[4:]: mean(key) for key in loaded[0] if key.startswith("inj_")}
    np.save(cache / f"{name}__{seed}__{ensemble}.npy", s_valid.astype(np.float32))
    return _row(args.suite, name, seed, "ensemble", ensemble, 0.0, s_valid, mean("test"),
                y_test, injected)


def run(args):
    import torch

    from skanomaly.benchmark import tabular_split

    torch.set_num_threads(1)
    OUT.mkdir(exist_ok=True)
    cache = Path(args.cache) / args.suite
    cache.mkdir(parents=True, exist_ok=True)
    csv_path = OUT / f"{args.suite}.csv"
    rows = {}
    if csv_path.exists():
        with open(csv_path) as handle:
            rows = {(r["dataset"], r["seed"], r["candidate"]): r for r in csv.DictReader(handle)}
    data = load_suite(args.suite)
    names = args.datasets or list(data)
    ensembles = [e for e in ENSEMBLES if set(ENSEMBLES[e][0]) <= set(args.zoo)]
    # Seed-major, in the order of --zoo: a partial run still covers every data set once.
    for seed in args.seeds:
        for zoo in args.zoo:
            for name in names:
                # A candidate is done when its row is in the CSV and all its scores are cached
                # (rows of the first round have no cached test scores: refitted, not re-added).
                todo = {
                    cand: det
                    for cand, det in candidates(zoo, seed).items()
                    if (name, str(seed), cand) not in rows
                    or not _scores_path(cache, name, seed, cand).exists()
                }
                missing = [e for e in ensembles if (name, str(seed), e) not in rows]
                if not todo and not missing:
                    continue
                X_train, X_test, _, y_test = tabular_split(data[name], seed)
                order = np.random.default_rng(seed).permutation(len(X_train))
                n_valid = max(10, int(round(0.2 * len(X_train))))
                X_fit, X_valid = X_train[order[n_valid:]], X_train[order[:n_valid]]
                sets = injected_sets(X_valid, seed) if todo else {}
                for cand, det in todo.items():
                    start = time.perf_counter()
                    try:
                        det.fit(X_fit)
                    except Exception as exc:  # a failing candidate is recorded, not fatal
                        print(f"{name} {seed} {cand}: fit failed: {exc}", flush=True)
                        continue
                    fit_s = time.perf_counter() - start
                    scores = {
                        "train": np.asarray(det.decision_scores_, dtype=float),
                        "valid": np.asarray(det.decision_function(X_valid), dtype=float),
                        "test": np.asarray(det.decision_function(X_test), dtype=float),
                    }
                    for set_name, anomalies in sets.items():
                        scores[f"inj_{set_name}"] = np.asarray(
                            det.decision_function(anomalies), dtype=float)
                    row = _row(args.suite, name, seed, zoo, cand, fit_s, scores["valid"],
                               scores["test"], y_test,
                               {k[4:]: v for k, v in scores.items() if k.startswith("inj_")})
                    np.save(cache / f"{name}__{seed}__{cand}.npy",
                            scores["valid"].astype(np.float32))
                    np.savez(_scores_path(cache, name, seed, cand),
                             **{k: v.astype(np.float32) for k, v in scores.items()})
                    old = rows.get((name, str(seed), cand))
                    if old is None:
                        _append(csv_path, row)
                        rows[(name, str(seed), cand)] = row
                        print(f"{name} {seed} {cand} test AUPR {row['test_aupr']:.3f} "
                              f"fit {fit_s:.1f}s", flush=True)
                    else:  # refit of a first-round row, for its scores: same model?
                        same = math.isclose(float(old["test_aupr"]), row["test_aupr"],
                                            abs_tol=1e-6)
                        print(f"{name} {seed} {cand} refitted for its scores "
                              f"({'same' if same else 'DIFFERENT'} test AUPR as the CSV row) "
                              f"fit {fit_s:.1f}s", flush=True)
                for ensemble in missing:
                    row = ensemble_row(args, cache, name, seed, ensemble, y_test)
                    if row is not None:
                        _append(csv_path, row)
                        rows[(name, str(seed), ensemble)] = row
                        print(f"{name} {seed} {ensemble} written", flush=True)


def _append(path, row):
    fields = FIELDS + sorted(k for k in row if k not in FIELDS)
    new = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        if new:
            writer.writeheader()
        writer.writerow(row)


# ---------------------------------------------------------------------- report
OURS = ("gauss1", "gauss3", "smote1")
FUNG = ("ad_local", "ad_global", "ad_cluster", "ad_dependency")


def statistics(df):
    """Add the injection statistics of every strategy to the per-candidate rows."""
    df = df.copy()
    df["injection"] = df[[f"{n}_aupr" for n in OURS]].mean(axis=1)
    df["fung"] = df[[f"{n}_aupr" for n in FUNG]].mean(axis=1)
    df["inj_all"] = df[[f"{n}_aupr" for n in OURS + FUNG]].mean(axis=1)
    for name in OURS:
        df[name] = df[f"{name}_aupr"]
    return df


def with_centrality(group, cache):
    """Model centrality among the candidates of ``group`` only (one data set and seed)."""
    from skanomaly.model_selection import centrality_scores

    group = group.copy()
    scores = [np.load(cache / f"{d}__{s}__{c}.npy") for d, s, c in
              zip(group.dataset, group.seed, group.candidate, strict=True)]
    group["centrality"] = centrality_scores(np.nan_to_num(np.asarray(scores, dtype=float)))
    return group


BORDA = {
    "borda": ("injection", "centrality"),
    "borda_fung": ("fung", "centrality"),
    "borda_all": ("injection", "fung", "centrality"),
    "borda_inj_all": ("inj_all", "centrality"),
}
STRATEGIES = ("injection", "fung", "inj_all", "centrality", *BORDA) + OURS
# DetectorSelector's default for rows since round 2 (chosen on dev): Borda of fung + centrality,
# with the zscore average in the zoo. (Round 1's default was borda_all, without the average.)
CHOSEN = "borda_fung"


def select(group, strategy):
    from scipy.stats import rankdata

    if strategy in BORDA:
        columns = BORDA[strategy]
        key = sum(rankdata(group[c].fillna(-np.inf)) for c in columns)
        key = key + 1e-6 * rankdata(group[columns[0]].fillna(-np.inf))  # ties: first column
    else:
        key = group[strategy].fillna(-np.inf).to_numpy()
    return group.iloc[int(np.argmax(key))]


def summarize(df, members, default, cache, ensemble=None):
    """Mean over data sets (of the mean over seeds) of each way of choosing."""
    import pandas as pd
    from scipy.stats import spearmanr

    rows = []
    sub = df[df.candidate.isin(members)]
    n_needed = len(members)
    for (dataset, seed), group in sub.groupby(["dataset", "seed"]):
        if len(group) < n_needed:
            continue  # an incomplete cell (interrupted run) is left out
        group = with_centrality(group, cache)
        record = {"dataset": dataset, "seed": seed}
        for metric in ("auroc", "aupr"):
            test = group[f"test_{metric}"]
            record[f"default_{metric}"] = group[group.candidate == default][f"test_{metric}"].iloc[0]
            if ensemble is not None:
                record[f"ensemble_{metric}"] = (
                    group[group.candidate == ensemble][f"test_{metric}"].iloc[0])
            # The mean candidate is over the zoo's members (the ensemble is not a member).
            record[f"mean_{metric}"] = test[group.candidate != ensemble].mean()
            record[f"oracle_{metric}"] = test.max()
            for strategy in STRATEGIES:
                record[f"{strategy}_{metric}"] = select(group, strategy)[f"test_{metric}"]
        for strategy in ("injection", "fung", "inj_all", "centrality"):
            rho = spearmanr(group[strategy], group.test_aupr).statistic
            record[f"rho_{strategy}"] = rho
        if ensemble is not None:
            record["ensemble_chosen"] = select(group, CHOSEN).candidate == ensemble
        rows.append(record)
    per_seed = pd.DataFrame(rows)
    if per_seed.empty:
        return per_seed, per_seed
    per_set = per_seed.drop(columns="seed").groupby("dataset").mean()
    return per_set, per_seed


def families():
    """title -> (members, default, ensemble member or None), for the report."""
    pyod, anorand = candidates("pyod", 0), candidates("anorand", 0)
    out = {"PyOD zoo (IForest, KNN, LOF, ECOD, HBOS)": (list(pyod), "IForest", None)}
    for norm in ("rank", "zscore"):
        out[f"PyOD zoo + their average ({norm})"] = (
            [*pyod, f"Ens_pyod_{norm}"], "IForest", f"Ens_pyod_{norm}")
    out["zoo: PyOD five + AnoRand default"] = ([*pyod, *anorand], "IForest", None)
    for norm in ("rank", "zscore"):
        out[f"zoo (PyOD five + AnoRand) + their average ({norm})"] = (
            [*pyod, *anorand, f"Ens_zoo_{norm}"], "IForest", f"Ens_zoo_{norm}")
    out["AnoRand grid (w x noise_level)"] = (list(candidates("grid", 0)), DEFAULT["grid"], None)
    return out


def report(args):
    import pandas as pd

    csv_path = OUT / f"{args.suite}.csv"
    df = pd.read_csv(csv_path)
    df = statistics(df)
    cache = Path(args.cache) / args.suite
    lines = [f"## Suite `{args.suite}`", ""]
    for title, (members, default, ensemble) in families().items():
        per_set, per_seed = summarize(df, members, default, cache, ensemble)
        if per_set.empty:
            lines += [f"### {title}", "", "not run (no complete cell).", ""]
            continue
        mean = per_set.mean()
        n_sets, n_cells = len(per_set), len(per_seed)
        lines += [f"### {title}", "",
                  f"{n_sets} data sets, {n_cells} (data set, seed) cells; default = `{default}`.",
                  "", "| choice | AUROC | AUPR |", "|---|---|---|"]
        rows = [("default", "default"), ("mean candidate", "mean")]
        if ensemble is not None:
            rows.append((f"the average alone (`{ensemble}`)", "ensemble"))
        rows += [*[(f"label-free: {s}", s) for s in STRATEGIES],
                 ("oracle best (test labels)", "oracle")]
        for label, key in rows:
            lines.append(f"| {label} | {mean[f'{key}_auroc']:.3f} | {mean[f'{key}_aupr']:.3f} |")
        lines += ["", "Spearman rho between the validation statistic and true test AUPR "
                  "(across candidates, mean over cells): "
                  + ", ".join(f"{s} {per_seed[f'rho_{s}'].mean():.2f}"
                              for s in ("injection", "fung", "inj_all", "centrality")), ""]
        if ensemble is not None:
            diff = per_set[f"{CHOSEN}_aupr"] - per_set["default_aupr"]
            lines += [f"`{CHOSEN}` chose the average in {int(per_seed.ensemble_chosen.sum())} "
                      f"of {n_cells} cells. `{CHOSEN}` minus default, test AUPR per data set "
                      f"(mean over seeds): mean {diff.mean():+.3f} (standard error "
                      f"{diff.std(ddof=1) / np.sqrt(len(diff)):.3f}), better on "
                      f"{int((diff > 0).sum())}, worse on {int((diff < 0).sum())} of "
                      f"{len(diff)} sets.", ""]
        if args.per_dataset:
            lines += ["| data set | default | mean | injection | fung | centrality | oracle |",
                      "|---|---|---|---|---|---|---|"]
            for dataset, r in per_set.iterrows():
                cells = [f"{r[f'{k}_auroc']:.3f} / {r[f'{k}_aupr']:.3f}"
                         for k in ("default", "mean", "injection", "fung", "centrality", "oracle")]
                lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
            lines.append("")
    text = "\n".join(lines)
    print(text)
    (OUT / f"{args.suite}_report.md").write_text(text + "\n")


# ---------------------------------------------------------------------- series
def dev_series():
    """Development series (not the panel): synthetic, with the embedded sine benchmarks."""
    from skanomaly.benchmark._datasets import load_embedded
    from skanomaly.datasets import make_timeseries_anomalies

    sets = {}
    for seed in range(6):
        train, test, labels = make_timeseries_anomalies(
            3000, 1 + 2 * (seed % 2), n_train=3000, period=(30, 80, 50)[seed % 3],
            random_state=200 + seed,
        )
        sets[f"synth_series_{seed}"] = (train, test, labels)
    for kind in ("spikes", "shift"):
        sets[f"sine_{kind}"] = load_embedded(f"synthetic_sine_{kind}")
    return sets


def series(args):
    """Reduced panel: TimeSeriesDetector candidates (detector x window) chosen label-free."""
    import torch
    from pyod.models.ecod import ECOD
    from pyod.models.hbos import HBOS
    from pyod.models.iforest import IForest

    from skanomaly.benchmark import shared_data_dir, timeseries_split
    from skanomaly.injectors import GaussianNoiseInjector, RandomChoiceInjector
    from skanomaly.metrics import vus_pr
    from skanomaly.model_selection import centrality_scores, make_injection_scorer
    from skanomaly.timeseries import TimeSeriesDetector

    torch.set_num_threads(1)
    if args.suite == "dev":
        loaders = dev_series()
        csv_path = OUT / "series_dev.csv"
    else:
        folder = shared_data_dir() / "timeseries"
        panel = (folder / "PANEL.txt").read_text().split()[: args.series]
        loaders = {name: folder / f"{name}.npz" for name in panel}
        csv_path = OUT / "series.csv"
    OUT.mkdir(exist_ok=True)
    done = set()
    if csv_path.exists():
        with open(csv_path) as handle:
            done = {(r["dataset"], r["candidate"]) for r in csv.DictReader(handle)}
    scorers = {
        "inj_windows": make_injection_scorer(RandomChoiceInjector(), random_state=0),
        "inj_noise": make_injection_scorer(
            [GaussianNoiseInjector(noise_level=1.0), GaussianNoiseInjector(noise_level=3.0)],
            random_state=0),
    }
    for name, source in loaders.items():
        train, test, labels = timeseries_split(source)
        train = train[-args.max_train:]
        test, labels = test[: args.max_test], labels[: args.max_test]
        n_valid = len(train) // 4
        fit_part, valid_part = train[:-n_valid], train[-n_valid:]
        valid_scores = {}
        rows = []
        for window in (50, 100, 200):
            if window * 2 > len(valid_part):
                continue
            for det_name, det in (("IForest", IForest(n_estimators=50, random_state=0)),
                                  ("ECOD", ECOD()), ("HBOS", HBOS())):
                cand = f"{det_name}_w{window}"
                if (name, cand) in done:
                    continue
                ts = TimeSeriesDetector(det, window=window, stride=max(1, window // 8))
                start = time.perf_counter()
                ts.fit(fit_part)
                row = {"dataset": name, "candidate": cand,
                       "fit_s": round(time.perf_counter() - start, 3)}
                scores = ts.decision_function(test)
                row["test_vus_pr"] = vus_pr(labels, scores) if labels.any() else np.nan
                for key, scorer in scorers.items():
                    row[key] = scorer(ts, valid_part)
                valid_scores[cand] = ts.decision_function(valid_part)
                rows.append(row)
        if rows:
            cents = centrality_scores([valid_scores[r["candidate"]] for r in rows])
            for row, cent in zip(rows, cents, strict=True):
                row["centrality"] = cent
                new = not csv_path.exists()
                with open(csv_path, "a", newline="") as handle:
                    writer = csv.DictWriter(handle, fieldnames=list(row))
                    if new:
                        writer.writeheader()
                    writer.writerow(row)
            print(name, "done", flush=True)


def series_report(args):
    import pandas as pd
    from scipy.stats import rankdata, spearmanr

    df = pd.read_csv(OUT / ("series_dev.csv" if args.suite == "dev" else "series.csv"))
    rows = []
    for dataset, group in df.groupby("dataset"):
        if TS_DEFAULT not in set(group.candidate) or group.test_vus_pr.isna().all():
            continue
        record = {"dataset": dataset, "n": len(group)}
        record["default"] = group[group.candidate == TS_DEFAULT].test_vus_pr.iloc[0]
        record["mean"] = group.test_vus_pr.mean()
        record["oracle"] = group.test_vus_pr.max()
        keys = {
            "injection (window injectors)": group.inj_windows.to_numpy(),
            "injection (noise)": group.inj_noise.to_numpy(),
            "centrality": group.centrality.to_numpy(),
            # the selector's default for series: window-injection scorer + centrality
            "borda (window injection + centrality)": rankdata(group.inj_windows)
            + rankdata(group.centrality) + 1e-6 * rankdata(group.inj_windows),
        }
        for name, key in keys.items():
            record[name] = group.test_vus_pr.iloc[int(np.argmax(key))]
        for name in ("inj_windows", "inj_noise", "centrality"):
            record[f"rho {name}"] = spearmanr(group[name], group.test_vus_pr).statistic
        rows.append(record)
    table = pd.DataFrame(rows).set_index("dataset")
    mean = table.mean(numeric_only=True)
    lines = [f"## Series, suite `{args.suite}` (adbench = the shared panel, reduced)", "",
             f"{len(table)} series; candidates: TimeSeriesDetector(IForest(50 trees) | ECOD | "
             "HBOS, window in {50, 100, 200}, stride window/8); default = "
             f"`{TS_DEFAULT}`. Mean test VUS-PR:", "", "| choice | VUS-PR |", "|---|---|"]
    for name in ["default", "mean", "injection (window injectors)", "injection (noise)",
                 "centrality", "borda (window injection + centrality)", "oracle"]:
        lines.append(f"| {name} | {mean[name]:.3f} |")
    lines += ["", "Spearman rho (validation statistic vs test VUS-PR across candidates, mean "
              "over series): " + ", ".join(
                  f"{n} {table[f'rho {n}'].mean():.2f}"
                  for n in ("inj_windows", "inj_noise", "centrality")), ""]
    text = "\n".join(lines)
    print(text)
    (OUT / f"series_{args.suite}_report.md").write_text(text + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run", "report", "series", "series-report"])
    parser.add_argument("--suite", default="dev", choices=["dev", "adbench"])
    parser.add_argument("--zoo", nargs="+", default=["pyod", "anorand"])
    parser.add_argument("--datasets", nargs="*")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--cache", default="/tmp/skanomaly_model_selection_cache")
    parser.add_argument("--per-dataset", action="store_true")
    parser.add_argument("--series", type=int, default=29)
    parser.add_argument("--max-train", type=int, default=5000)
    parser.add_argument("--max-test", type=int, default=20000)
    args = parser.parse_args()
    commands = {"run": run, "report": report, "series": series, "series-report": series_report}
    commands[args.command](args)


if __name__ == "__main__":
    main()
