"""Data-driven clusters of the customers who bought, with names a marketer can read.

Tiers and RFM segments cut the base along rules someone chose; clusters let the data say which
groups of customers behave alike. Only buyers (``frequency > 0``) are clustered: a prospect has no
recency, order value or purchase rhythm to compare. A buyer with a missing or infinite value in any
feature is left out too (label ``<NA>``) rather than given a made-up value.

How a clustering is made (every number comes from the ``clusters`` settings):

1. **Order.** Buyers are sorted by ``customer_id`` before anything random happens, so the result
   depends on the seed only, never on the row order of the input.
2. **Transform.** The columns in ``clusters.log`` (when it is ``None``: every feature whose
   skewness over the buyers is above 1) take a signed log, ``sign(x) * log1p(|x|)``: ``log1p``
   for values of 0 and up, its mirror image below 0. A buyer whose returns outweigh their
   purchases keeps a negative net spend, below every zero spender, and sets nothing for anyone
   else; a shift of the whole column by its most negative value, ``log1p(x - min(x))``, would let
   one refund of 1,600 squeeze every other spend into a sliver of the scale. Every feature is then
   scaled by its median and inter-quartile range (IQR), so a handful of huge accounts does not
   set the scale either.
3. **Clip.** For fitting, each scaled feature is clipped at ``clusters.clip_iqr`` [3] IQRs beyond
   its quartiles (Tukey's far-out fences; ``None`` switches it off). Extreme customers (a wholesaler
   with a thousand orders, a refund larger than anyone's spend) are then as far out as the fence,
   where they join the nearest cluster instead of drawing a centre of their own; every step below,
   labels included, works on the clipped values. ``ClusterResult.clipped`` counts the buyers
   clipped on each feature.
4. **Choose k.** A fixed-size sample of at most ``clusters.sample_size`` buyers, drawn with the
   seed, is clustered once for every k in ``k_min..k_max`` (k-means: best of 10 starts; Gaussian
   mixture, full covariances: best of 3). For each k the table
   ``ClusterResult.selection`` holds

   * ``silhouette``: the mean silhouette of that clustering of the sample (how much closer each
     customer is to their own cluster than to the next one; -1..1, higher is better);
   * ``stability``: the mean adjusted Rand index between that clustering and the clusterings refit
     on ``clusters.bootstrap`` bootstrap resamples of the sample (one start each; each refit
     labels the whole sample; 1 = the same partition every time, about 0 = unrelated partitions);
   * ``smallest_share``: the share of the sample in that clustering's smallest cluster, and
     ``smallest_share_all`` the same for the fit on all buyers (step 5; missing for a k that was
     not fitted on all buyers);
   * ``eligible``: every cluster holds at least ``clusters.min_share`` [2%] of the buyers, on the
     sample and, where it was fitted, on all buyers. A cluster of a handful of customers describes
     those customers, not a group to plan for.

   The chosen k is eligible and has the highest silhouette among the eligible values of k whose
   stability is at least `MIN_STABILITY`; when none reaches it (or ``bootstrap`` is 0) the highest
   silhouette among the eligible. Ties go to the smaller k. The candidates are fitted on all
   buyers in that order of preference until one keeps every cluster at the minimum share. When no
   k is eligible, the one whose smallest cluster is largest is kept, and ``min_share_met`` is
   False so that the reports can say so.
5. **Fit everyone.** k-means: the centres found on the sample start one more run of k-means on all
   buyers (one start), which settles them on the full base. Gaussian mixture: the mixture fitted on
   the sample labels all buyers; EM on all rows would repeat its costly passes over millions of
   rows. When all buyers fit in the sample, the sample fit is the final fit.
6. **Number.** Clusters are numbered 1..k by descending median net spend (``monetary``), then by
   descending size, so the ids are stable between runs and cluster 1 is the most valuable.

Why sample-based selection: the silhouette compares every pair of customers, so on the full base
it costs time and memory quadratic in the number of buyers; on a fixed-size sample it costs the
same for ten thousand buyers as for ten million, and the refit on all rows stays linear. The
silhouettes of all k share one pass over the sample's distances (:func:`mean_silhouettes`), made
in blocks of rows so that memory stays small whatever ``sample_size`` is.

Cluster names are generated from the cluster's z-scores as facts, word codes (see
:func:`cluster_name`), numbered (``repeat``: 2, 3, ...) when two clusters get the same words;
:func:`custseg.words.cluster_name` says them ("Recent frequent high spenders (2)").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from custseg.config import Clusters

#: A value of k is trusted for selection when its bootstrap stability (mean ARI) reaches this.
MIN_STABILITY = 0.75

#: |z| from which a dimension earns a word in a cluster name (half a standard deviation).
NAME_Z = 0.5

#: Tenure z-score at or below which a cluster is called "New".
NEW_TENURE_Z = -1.0

# Restarts of the reference fit per k: k-means is cheap, so many restarts make the choice of k
# independent of one unlucky start; EM is slower and its restarts agree more often.
_N_INIT = {"kmeans": 10, "gmm": 3}
# Restarts of each bootstrap refit: one is enough, since a partition that is only found by some
# starts is exactly the instability the check is meant to reveal.
_BOOTSTRAP_N_INIT = 1
# Memory (MiB) the silhouette may use per block of distances: keeps the peak small on any sample.
_WORKING_MEMORY_MB = 64
# Skewness above which a feature is log-transformed when clusters.log is None.
_SKEW_LIMIT = 1.0


@dataclass(frozen=True)
class ClusterResult:
    """A clustering of the buyers and how it was chosen.

    Attributes
    ----------
    labels : pd.Series
        Cluster id (``Int64``, 1..k) aligned to the index of the customer table that was
        clustered; ``<NA>`` for non-buyers and for buyers with a missing feature.
    names : dict[int, dict]
        Cluster id -> generated descriptive name as a fact (:func:`cluster_name`, with
        ``repeat`` numbering the clusters that share words), worded by
        :func:`custseg.words.cluster_name`.
    profile : pd.DataFrame
        One row per cluster (index ``cluster``): ``cluster`` (the id again, for the Parquet
        file), ``size``, ``share`` (of clustered customers), ``revenue`` and ``revenue_share`` (of
        their net spend), ``median_<feature>`` (original scale) and ``z_<feature>`` (the cluster's
        mean on the scale the clusters were fitted on, signed log, scaled and clipped, in standard
        deviations from the mean of all clustered customers).
    selection : pd.DataFrame
        One row per k in ``k_min..k_max``: ``k``, ``silhouette``, ``stability``,
        ``smallest_share``, ``smallest_share_all``, ``eligible``, ``chosen``.
    k : int
        The chosen number of clusters. The profile has one row fewer for each Gaussian component
        that ends up labelling nobody (k-means never leaves a cluster empty).
    method : str
        ``kmeans`` or ``gmm``.
    settings : Clusters
        The settings used, seed included.
    log_columns : tuple[str, ...]
        The features that took the signed log, in feature order.
    clipped : dict[str, int]
        Feature -> buyers whose scaled value lay beyond the fences and was clipped for fitting
        (every feature, 0 where none was; all 0 when ``clusters.clip_iqr`` is None).
    min_share_met : bool
        Whether every cluster of the chosen clustering holds at least ``clusters.min_share`` of
        the clustered buyers; False when no k in the range did.
    by_customer : pd.Series
        Cluster id (``Int64``) indexed by ``customer_id`` for every clustered customer, sorted;
        what :func:`assign_clusters` joins on.
    customer_ids : pd.api.extensions.ExtensionArray
        The ``customer_id`` column of the clustered table, in its row order: given that very
        table, :func:`assign_clusters` takes ``labels`` as they are instead of joining.
    """

    labels: pd.Series
    names: dict[int, dict[str, object]]
    profile: pd.DataFrame
    selection: pd.DataFrame
    k: int
    method: str
    settings: Clusters
    log_columns: tuple[str, ...]
    clipped: dict[str, int]
    min_share_met: bool
    by_customer: pd.Series
    customer_ids: pd.api.extensions.ExtensionArray | None = None


def fit_clusters(customers: pd.DataFrame, settings: Clusters) -> ClusterResult:
    """Cluster the buyers of a customer table on the configured features.

    Parameters
    ----------
    customers
        The customer table: ``customer_id`` (unique), ``frequency``, ``monetary`` and every column
        named in ``settings.features``. It is not modified.
    settings
        The ``clusters`` section of the study config.

    Returns
    -------
    ClusterResult
        Labels, names, profile and the selection table; see the module docstring for the method.

    Raises
    ------
    ValueError
        When a column is missing or not numeric, ``clusters.log`` names a column that is not a
        feature, customer ids repeat, or there are fewer buyers with complete features than
        ``clusters.k_max`` + 1.
    """
    _check_table(customers, settings)
    base, features, positions = _buyers(customers, settings)
    log_columns = _log_columns(features, settings)
    scaled, clipped = _scaled(_transform(features, log_columns), settings.clip_iqr)

    rng = np.random.default_rng(settings.seed)
    n = len(scaled)
    # Sorted positions: the sample is a set of customers, and its order must not depend on the draw.
    if n > settings.sample_size:
        sample = np.sort(rng.choice(n, size=settings.sample_size, replace=False))
    else:
        sample = np.arange(n)
    # One thread, for two reasons: the selection fits are small, and OpenMP threads that wait
    # for each other on a busy machine make a 5,000-row k-means ten times slower; and k-means
    # adds its threads' partial sums in whatever order they finish, so with three or more threads
    # the centres (and a borderline customer's label) could differ in the last bit between runs.
    with threadpool_limits(limits=1):
        selection, models = _select_k(scaled[sample], settings)
        selection, raw = _choose(selection, models, scaled, settings, refit=n > len(sample))
    chosen = selection.loc[selection["chosen"]].iloc[0]
    k = int(chosen["k"])

    ids = _canonical_ids(raw, base["monetary"].to_numpy(dtype="float64"))
    z = _zscores(pd.DataFrame(scaled, columns=features.columns), ids)
    names = _unique_names({int(c): cluster_name(z.loc[c]) for c in z.index})
    profile = _profile(base, features, ids, z)
    values, unlabelled = np.zeros(len(customers), dtype="int64"), np.ones(len(customers), dtype=bool)
    values[positions], unlabelled[positions] = ids, False
    labels = pd.Series(pd.arrays.IntegerArray(values, unlabelled), index=customers.index, name="cluster")
    by_customer = pd.Series(ids, index=pd.Index(base["customer_id"], name="customer_id"),
                            dtype="Int64", name="cluster")
    return ClusterResult(
        labels=labels,
        names=names,
        profile=profile,
        selection=selection,
        k=k,
        method=settings.method,
        settings=settings,
        log_columns=log_columns,
        clipped=dict(zip(features.columns, clipped.tolist())),
        min_share_met=bool(chosen["eligible"]),
        by_customer=by_customer,
        customer_ids=customers["customer_id"].array,
    )


def assign_clusters(customers: pd.DataFrame, result: ClusterResult) -> pd.DataFrame:
    """Add ``cluster`` (Int64 id) to a customer table (its name is a fact in ``result.names``,
    which :func:`custseg.words.cluster_name` puts in words where it is shown).

    Customers are matched on ``customer_id``, so the table may be the clustered one in any row
    order or a slice of it (one region); customers who were not clustered get ``<NA>``.

    Parameters
    ----------
    customers
        A customer table with ``customer_id``.
    result
        What :func:`fit_clusters` returned.

    Returns
    -------
    pd.DataFrame
        A new frame.
    """
    if "customer_id" not in customers:
        raise ValueError("assign_clusters needs a customer_id column to match customers to clusters")
    if _same_rows(customers, result):
        # The clustered table itself: its labels are in row order already, and comparing two id
        # columns costs far less than looking up a million ids.
        cluster = pd.Series(result.labels.array, index=customers.index, name="cluster")
    else:
        cluster = customers["customer_id"].map(result.by_customer).astype("Int64")
    return customers.assign(cluster=cluster)


def _same_rows(customers: pd.DataFrame, result: ClusterResult) -> bool:
    """True when `customers` holds the clustered customers in the clustered order."""
    ids = result.customer_ids
    return ids is not None and len(ids) == len(customers) and bool(customers["customer_id"].array.equals(ids))


def cluster_name(z: pd.Series) -> dict[str, object]:
    """A short descriptive name from a cluster's z-scores, as a fact: word codes, not words.

    The words come from the features named below when they were clustered on; a z-score counts
    when it is at least `NAME_Z` (0.5) standard deviations from the base mean:

    ============  ===================================================================
    word          rule
    ============  ===================================================================
    new           ``tenure_days`` z <= `NEW_TENURE_Z` (-1): a young relationship
    recent        ``recency_days`` z <= -0.5 (bought more recently than most)
    lapsed        ``recency_days`` z >= +0.5
    frequent      ``frequency`` z >= +0.5
    occasional    ``frequency`` z <= -0.5
    big-basket /  ``aov`` z >= +0.5 / <= -0.5, when order size is the stronger spend
    small-basket  signal (|z aov| > |z monetary|); then the noun is ``buyers``
    high / low    ``monetary`` z >= +0.5 / <= -0.5; the noun is ``spenders``
    ============  ===================================================================

    A "new" cluster drops the frequency and total-spend words: both accumulate over time, so for
    a young relationship they say more about its age than about the customer. Without any other
    word the noun is ``customers``. :func:`custseg.words.cluster_name` puts a name in words:
    "Recent frequent high spenders", "Big-basket buyers", "Lapsed occasional low spenders", "New
    customers", and "Average customers" for a cluster without a describing word.

    Parameters
    ----------
    z
        z-scores indexed by feature name (``z_`` prefixes are accepted and ignored).

    Returns
    -------
    dict
        ``{"words": [...], "noun": ...}``: the describing word codes in the order they are said
        (``[]`` for an average cluster), then the noun code (``spenders``, ``buyers`` or
        ``customers``).
    """
    z = z.rename(lambda name: str(name).removeprefix("z_"))

    def strength(feature: str) -> float:
        """The z-score of a feature, 0 when it was not clustered on."""
        value = z.get(feature, np.nan)
        return 0.0 if pd.isna(value) else float(value)

    def level(feature: str) -> int:
        value = strength(feature)
        return 1 if value >= NAME_Z else -1 if value <= -NAME_Z else 0

    new = "tenure_days" in z and strength("tenure_days") <= NEW_TENURE_Z
    if new:
        words = ["new"]
    else:
        words = [{-1: "recent", 1: "lapsed"}.get(level("recency_days")),
                 {-1: "occasional", 1: "frequent"}.get(level("frequency"))]
    spend = 0.0 if new else abs(strength("monetary"))
    if level("aov") and abs(strength("aov")) > spend:
        words.append("big-basket" if level("aov") > 0 else "small-basket")
        noun = "buyers"
    elif not new and level("monetary"):
        words.append("high" if level("monetary") > 0 else "low")
        noun = "spenders"
    else:
        noun = "customers"
    return {"words": [word for word in words if word], "noun": noun}


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


def _check_table(customers: pd.DataFrame, settings: Clusters) -> None:
    """Fail early, naming the column or the config key, before any work is done."""
    if not settings.features:
        raise ValueError("clusters.features is empty: name at least one column of the customer table")
    for column in ("customer_id", "frequency", "monetary"):
        if column not in customers:
            raise ValueError(f"clustering needs the customer table column {column!r}, which is missing")
    missing = [c for c in settings.features if c not in customers]
    if missing:
        raise ValueError(
            f"clusters.features names {missing}, which the customer table does not have; "
            f"numeric columns there are {list(customers.select_dtypes('number').columns)}"
        )
    if len(set(settings.features)) != len(settings.features):
        raise ValueError(f"clusters.features lists a column twice: {settings.features}")
    for column in settings.features:
        dtype = customers[column].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise ValueError(f"clusters.features: column {column!r} is {dtype}, not a number")
    extra = [c for c in (settings.log or []) if c not in settings.features]
    if extra:
        raise ValueError(f"clusters.log names {extra}, which are not in clusters.features {settings.features}")
    if customers["customer_id"].isna().any():
        missing = int(customers["customer_id"].isna().sum())
        raise ValueError(f"customer_id is missing on {missing} rows of the customer table")


def _buyers(customers: pd.DataFrame, settings: Clusters) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Buyers with every feature present, sorted by customer_id.

    Returns their ``customer_id`` and ``monetary``, their features as float64, and each one's row
    position in `customers`: positions rather than index labels, so any index works.
    """
    numbers = np.column_stack(
        [customers[c].to_numpy(dtype="float64", na_value=np.nan) for c in settings.features]
    )
    buyer = customers["frequency"].to_numpy(dtype="float64", na_value=np.nan) > 0
    keep = np.flatnonzero(buyer & np.isfinite(numbers).all(axis=1))
    # The customer table is sorted by customer_id already, and sorting sorted strings is cheap.
    base = (
        customers[["customer_id", "monetary"]].iloc[keep].assign(position=keep)
        .sort_values("customer_id", kind="stable").reset_index(drop=True)
    )
    ids = pa.array(base["customer_id"].array)  # the Arrow strings themselves: a fast comparison
    repeated = pc.equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)
    if repeated.any():
        raise ValueError(
            f"customer_id {ids[int(np.argmax(repeated))].as_py()!r} appears more than once; "
            "clusters need one row per customer"
        )
    if len(base) <= settings.k_max:
        raise ValueError(
            f"only {len(base)} buyers have every feature in clusters.features {settings.features}; "
            f"clustering up to clusters.k_max = {settings.k_max} needs at least {settings.k_max + 1}"
        )
    positions = base["position"].to_numpy()
    features = pd.DataFrame(numbers[positions], columns=list(settings.features))
    return base.drop(columns="position"), features, positions


def _log_columns(features: pd.DataFrame, settings: Clusters) -> tuple[str, ...]:
    """The columns to log-transform, in feature order."""
    if settings.log is None:
        skew = features.skew()
        return tuple(c for c in features.columns if skew[c] > _SKEW_LIMIT)
    return tuple(c for c in features.columns if c in settings.log)


def _transform(features: pd.DataFrame, log_columns: tuple[str, ...]) -> pd.DataFrame:
    """Features with the signed log ``sign(x) * log1p(|x|)`` for the logged columns, others as they are."""
    logged = {c: np.sign(features[c]) * np.log1p(features[c].abs()) for c in log_columns}
    return features.assign(**logged)


def _scaled(transformed: pd.DataFrame, clip_iqr: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Each feature centred on its median and divided by its IQR, then clipped at the fences.

    The same scaling as scikit-learn's ``RobustScaler`` (a feature whose quartiles coincide is
    only centred), with the quartiles it needs for the fences taken from the same percentiles.

    Returns
    -------
    tuple[np.ndarray, np.ndarray]
        The scaled, clipped n x d array, and per feature the number of buyers that were clipped.
    """
    values = transformed.to_numpy(dtype="float64")
    q1, median, q3 = np.percentile(values, [25, 50, 75], axis=0)
    iqr = np.where(q3 > q1, q3 - q1, 1.0)
    scaled = (values - median) / iqr
    if clip_iqr is None:
        return scaled, np.zeros(values.shape[1], dtype="int64")
    # the fences in scaled units: the quartiles, then clip_iqr IQRs (1 each, once scaled) beyond
    low, high = (q1 - median) / iqr - clip_iqr, (q3 - median) / iqr + clip_iqr
    clipped = ((scaled < low) | (scaled > high)).sum(axis=0)
    return np.clip(scaled, low, high, out=scaled), clipped.astype("int64")  # in place: no second n x d copy


def _model(method: str, k: int, seed: int, n_init: int) -> KMeans | GaussianMixture:
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed)
    return GaussianMixture(n_components=k, n_init=n_init, random_state=seed)


def _select_k(sample: np.ndarray, settings: Clusters) -> tuple[pd.DataFrame, dict[int, KMeans | GaussianMixture]]:
    """Silhouette, bootstrap stability and smallest cluster share for each k on the sample."""
    ks = range(settings.k_min, settings.k_max + 1)
    models = {k: _model(settings.method, k, settings.seed, _N_INIT[settings.method]).fit(sample) for k in ks}
    labelings = [models[k].predict(sample) for k in ks]
    selection = pd.DataFrame({
        "k": np.array(ks, dtype="int64"),
        "silhouette": mean_silhouettes(sample, labelings),
        "stability": [_stability(sample, labels, k, settings) for k, labels in zip(ks, labelings)],
        "smallest_share": [_smallest_share(labels) for labels in labelings],
    })
    return selection, models


def _smallest_share(labels: np.ndarray) -> float:
    """Share of the labelled rows in the smallest cluster that has any (an empty Gaussian
    component is no cluster)."""
    sizes = np.bincount(labels)
    return float(sizes[sizes > 0].min() / len(labels))


def _choose(
    selection: pd.DataFrame, models: dict[int, KMeans | GaussianMixture], scaled: np.ndarray,
    settings: Clusters, *, refit: bool,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Choose k and label all buyers (see step 4 of the module docstring).

    Returns the selection table with ``smallest_share_all``, ``eligible`` and ``chosen`` added,
    and the chosen clustering's labels of all buyers.
    """
    fits: dict[int, np.ndarray] = {}
    share_all = pd.Series(np.nan, index=selection.index)
    on_sample = selection["smallest_share"].ge(settings.min_share)
    # order of preference: eligible on the sample, stable, higher silhouette, smaller k
    preference = selection.assign(
        unstable=~selection["stability"].ge(MIN_STABILITY),
        worse=-selection["silhouette"].fillna(-np.inf),
    ).sort_values(["unstable", "worse", "k"], kind="stable")
    chosen = None
    for row in preference.index[on_sample.loc[preference.index].to_numpy()]:
        k = int(selection.at[row, "k"])
        fits[row] = _final_labels(models[k], scaled, settings, refit=refit)
        share_all[row] = _smallest_share(fits[row])
        if share_all[row] >= settings.min_share:
            chosen = row
            break
    eligible = on_sample & ~share_all.lt(settings.min_share)
    if chosen is None:
        # no k keeps every cluster at the minimum: the one whose smallest cluster is largest, on
        # all buyers where that was measured; idxmax keeps the smaller k of equal shares
        chosen = selection["smallest_share"].where(share_all.isna(), share_all).idxmax()
        if chosen not in fits:
            fits[chosen] = _final_labels(models[int(selection.at[chosen, "k"])], scaled, settings, refit=refit)
            share_all[chosen] = _smallest_share(fits[chosen])
    selection = selection.assign(
        smallest_share_all=share_all, eligible=eligible, chosen=selection.index == chosen
    )
    return selection, fits[chosen]


def mean_silhouettes(points: np.ndarray, labelings: list[np.ndarray]) -> np.ndarray:
    """Mean silhouette of several labelings of the same points, computing each distance once.

    The definition is that of :func:`sklearn.metrics.silhouette_score` (a point alone in its
    cluster scores 0), which the tests check. Calling that once per k would compute the same
    m x m distances once per k; here each block of rows is measured once and reused for every
    labeling, and a block holds about ``_WORKING_MEMORY_MB`` of distances, so memory stays flat.

    Parameters
    ----------
    points
        m x d array.
    labelings
        Integer labels 0..k-1 of the m points, one array per clustering.

    Returns
    -------
    np.ndarray
        One mean silhouette per labeling; NaN for a labeling with fewer than two clusters.
    """
    m = len(points)
    sizes = [np.bincount(labels) for labels in labelings]
    # one indicator column per cluster of every labeling: distances @ indicators sums per cluster
    indicators = np.hstack([np.eye(len(size))[labels] for labels, size in zip(labelings, sizes)])
    bounds = np.cumsum([0, *(len(size) for size in sizes)])
    rows = max(1, _WORKING_MEMORY_MB * 2**20 // (8 * m))
    totals = np.zeros(len(labelings))
    for start in range(0, m, rows):
        block = euclidean_distances(points[start:start + rows], points)
        here = np.arange(len(block))
        block[here, start + here] = 0.0  # a point's distance to itself, free of rounding
        sums = block @ indicators
        for j, (labels, size) in enumerate(zip(labelings, sizes)):
            own = labels[start:start + rows]
            per_cluster = sums[:, bounds[j]:bounds[j + 1]]
            inside = per_cluster[here, own] / np.maximum(size[own] - 1, 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                # an empty cluster id (k-means found fewer clusters) is nobody's nearest cluster
                mean_to = np.where(size > 0, per_cluster / size, np.inf)
            mean_to[here, own] = np.inf
            nearest = mean_to.min(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                score = (nearest - inside) / np.maximum(inside, nearest)
            totals[j] += np.nan_to_num(np.where(size[own] > 1, score, 0.0)).sum()
    distinct = np.array([np.count_nonzero(size) for size in sizes])
    return np.where(distinct >= 2, totals / m, np.nan)


def _stability(sample: np.ndarray, labels: np.ndarray, k: int, settings: Clusters) -> float:
    """Mean ARI of refits on bootstrap resamples against the sample's own clustering."""
    if settings.bootstrap == 0:
        return np.nan
    # A generator per k: the row of k in the selection table is the same whatever k_min and k_max.
    rng = np.random.default_rng([settings.seed, k])
    scores = np.empty(settings.bootstrap)
    for b in range(settings.bootstrap):
        resample = rng.integers(0, len(sample), size=len(sample))
        seed = int(rng.integers(2**31 - 1))
        refit = _model(settings.method, k, seed, _BOOTSTRAP_N_INIT).fit(sample[resample])
        scores[b] = adjusted_rand_score(labels, refit.predict(sample))
    return float(scores.mean())


def _final_labels(
    model: KMeans | GaussianMixture, scaled: np.ndarray, settings: Clusters, *, refit: bool
) -> np.ndarray:
    """Labels of all buyers from the model chosen on the sample."""
    if refit and settings.method == "kmeans":
        # Started from the sample's centres, k-means on all rows only settles them: one start.
        model = KMeans(n_clusters=model.n_clusters, init=model.cluster_centers_, n_init=1,
                       random_state=settings.seed).fit(scaled)
    return model.predict(scaled)


def _canonical_ids(raw: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Renumber clusters 1..k by descending median monetary, then descending size."""
    frame = pd.DataFrame({"raw": raw, "monetary": monetary})
    stats = frame.groupby("raw")["monetary"].agg(["median", "size"])
    order = stats.sort_values(["median", "size"], ascending=False, kind="stable").index
    mapping = pd.Series(np.arange(1, len(order) + 1), index=order)
    return mapping.reindex(raw).to_numpy(dtype="int64")


def _zscores(transformed: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """Each cluster's mean per feature, in standard deviations from the mean of all clustered
    customers, on the scale the clusters were fitted on (so clipped outliers weigh as much as the
    fences, as in the fit)."""
    spread = transformed.std(ddof=0)
    # a constant feature separates nobody: its z-score is 0, not a division by zero
    spread = spread.where(spread > 0)
    means = transformed.groupby(ids).mean()
    z = ((means - transformed.mean()) / spread).fillna(0.0)
    z.index.name = "cluster"
    return z


def _unique_names(names: dict[int, dict[str, object]]) -> dict[int, dict[str, object]]:
    """Number the clusters (by id) that share words: ``repeat`` 1 for the first, 2, 3, ... for
    the later ones (said as " (2)", " (3)", ...)."""
    seen: dict[tuple, int] = {}
    unique = {}
    for cluster in sorted(names):
        name = names[cluster]
        key = (tuple(name["words"]), name["noun"])
        seen[key] = seen.get(key, 0) + 1
        unique[cluster] = {**name, "repeat": seen[key]}
    return unique


def _profile(base: pd.DataFrame, features: pd.DataFrame, ids: np.ndarray, z: pd.DataFrame) -> pd.DataFrame:
    """Size, share, revenue share, feature medians and z-scores per cluster (its name is in
    ``ClusterResult.names``)."""
    grouped = base.assign(cluster=ids).groupby("cluster")
    size = grouped.size()
    revenue = grouped["monetary"].sum()
    total = base["monetary"].sum()
    medians = features.groupby(ids).median().add_prefix("median_")
    medians.index.name = "cluster"
    profile = pd.DataFrame({
        "cluster": size.index.astype("int64"),  # written as a column: the Parquet file drops the index
        "size": size.astype("int64"),
        "share": size / size.sum(),
        "revenue": revenue,
        "revenue_share": revenue / total if total != 0 else np.nan,
    })
    return profile.join(medians).join(z.add_prefix("z_"))
