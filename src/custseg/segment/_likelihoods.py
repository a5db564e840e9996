"""The likelihoods of the value models and their maximum-likelihood fits.

BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam et al. 2007) for the number of purchases,
Gamma-Gamma for the order values: each mean negative log-likelihood in closed form with its
analytic gradient in the log-parameters, maximised with scipy's L-BFGS-B. The special functions
depend on the frequency alone, so they are evaluated once per distinct frequency.

Private to :mod:`custseg.segment`: :mod:`custseg.segment.clv` is its front.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import OptimizeResult, minimize
from scipy.special import betaln, expit, gammaln, psi

# The optimizers search log-parameters within +-this (parameters between 1.5e-8 and 6.6e7), so a
# parameter that runs off (the data cannot pin it down) stays finite. Gamma-Gamma's p running off
# is a benign limit (order values that hardly vary within a customer); a BG/NBD parameter at the
# edge is reported as a failed fit.
_LOG_BOUND = 18.0
# Largest gradient of the mean negative log-likelihood (in log-parameters) accepted as an optimum.
_GRADIENT_TOLERANCE = 1e-5


class FitError(ValueError):
    """A value model that could not be fitted: the message in English (for logs and tracebacks)
    and the same as facts, ``facts`` (a reason code and its figures, docs/data-contract.md), which
    :func:`custseg.words.value_fit_error` words where it is shown."""

    def __init__(self, message: str, facts: dict[str, object]):
        super().__init__(message)
        self.facts = facts


def model_name(shift: int) -> str:
    return "MBG/NBD" if shift else "BG/NBD"



def bgnbd_nll(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, penalizer: float,
               counts: tuple[np.ndarray, np.ndarray] | None = None, shift: int = 0) -> tuple[float, np.ndarray]:
    """Mean negative BG/NBD (``shift`` 0) or MBG/NBD (``shift`` 1) log-likelihood and its
    gradient in the log-parameters.

    Per customer (Fader, Hardie & Lee 2005, eq. 6), with A1 = ln G(r+x) - ln G(r) + r ln alpha:
    ll = A1 + ln(exp(A2) + [x > 0] exp(A3)), A2 = ln B(a, b+x) - ln B(a, b) - (r+x) ln(alpha+T),
    A3 = ln B(a+1, b+x-1) - ln B(a, b) - (r+x) ln(alpha+t_x). MBG/NBD (Batislam et al. 2007):
    the same with b + 1 for b inside the first beta function of A2 and A3, and the drop-out
    branch A3 for every customer (a one-time buyer may have dropped out right after the first
    purchase: t_x = 0).

    ``counts`` = (distinct frequencies, index of each customer's among them): the special
    functions depend on x only, so they are evaluated once per distinct x (a few hundred values
    instead of one per customer; this is most of the speed of the fit).
    """
    r, alpha, a, b = np.exp(theta)
    ux, inv = counts if counts is not None else np.unique(x, return_inverse=True)
    bb = b + shift
    uxb = np.maximum(ux, 1.0 - shift)  # keeps b + x - 1 > 0 in the BG/NBD branch that x = 0 never uses
    dab = psi(a + b)
    per_x = {  # every term that depends on the frequency alone, per distinct frequency
        "a1": gammaln(r + ux) - gammaln(r),
        "b2": betaln(a, bb + ux) - betaln(a, b),
        "b3": betaln(a + 1, bb + uxb - 1) - betaln(a, b),
        "g_r": psi(r + ux) - psi(r),
        "g_a2": dab - psi(a + bb + ux),
        "g_a3": psi(a + 1) - psi(a) + dab - psi(a + bb + uxb),
        "g_b2": psi(bb + ux) - psi(a + bb + ux) - psi(b) + dab,
        "g_b3": psi(bb + uxb - 1) - psi(a + bb + uxb) - psi(b) + dab,
    }
    at = {name: values[inv] for name, values in per_x.items()}
    rep = (x > 0) | bool(shift)
    log_at, log_atx = np.log(alpha + T), np.log(alpha + t_x)
    a2 = at["b2"] - (r + x) * log_at
    a3 = np.where(rep, at["b3"] - (r + x) * log_atx, -np.inf)
    ll = at["a1"] + r * np.log(alpha) + np.logaddexp(a2, a3)
    w3 = np.where(rep, expit(np.where(rep, a3 - a2, 0.0)), 0.0)  # weight of the drop-out branch
    w2 = 1.0 - w3
    g_r = at["g_r"] + np.log(alpha) - w2 * log_at - w3 * log_atx
    g_alpha = r / alpha - (r + x) * (w2 / (alpha + T) + w3 / (alpha + t_x))
    g_a = w2 * at["g_a2"] + w3 * at["g_a3"]
    g_b = w2 * at["g_b2"] + w3 * at["g_b3"]
    grad = np.array([g_r.mean() * r, g_alpha.mean() * alpha, g_a.mean() * a, g_b.mean() * b])
    return -ll.mean() + penalizer * (theta @ theta), -grad + 2.0 * penalizer * theta



def _converged(res: OptimizeResult) -> bool:
    # L-BFGS-B reports an "abnormal" line search when it stands on a flat optimum and cannot
    # improve in float64; a gradient this small is an optimum whatever the message says.
    return bool(res.success or np.max(np.abs(res.jac)) < _GRADIENT_TOLERANCE)



def bgnbd_loglik(params: tuple[float, ...], x: np.ndarray, t_x: np.ndarray, T: np.ndarray, shift: int = 0) -> float:
    return float(-bgnbd_nll(np.log(params), x, t_x, T, 0.0, shift=shift)[0] * len(x))



def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, penalizer: float, shift: int = 0
               ) -> tuple[tuple[float, float, float, float], float]:
    # Start: a purchase rate of the observed repeat rate, drop-out probability about 1/4. Any
    # sensible start reaches the same optimum; a fixed one keeps the fit deterministic.
    rate = max(x.sum() / T.sum(), 1e-6)
    start = np.log([1.0, 1.0 / rate, 1.0, 3.0])
    counts = np.unique(x, return_inverse=True)
    name = model_name(shift)
    res = minimize(bgnbd_nll, start, args=(x, t_x, T, penalizer, counts, shift), jac=True, method="L-BFGS-B",
                   bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4, options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
    model = "mbgnbd" if shift else "bgnbd"
    if not _converged(res):
        scipy = str(res.message).rstrip(": ")
        raise FitError(
            f"the {name} optimizer stopped without reaching an optimum (scipy: {scipy}); the value models are not "
            f"available", {"reason": "no_optimum", "model": model, "scipy": scipy},
        )
    at_edge = np.abs(res.x) > _LOG_BOUND - 1e-3
    if at_edge.any():
        names = np.array(["r", "alpha", "a", "b"])[at_edge]
        raise FitError(
            f"the {name} fit has no finite optimum: parameter(s) {', '.join(names)} ran off to the "
            f"edge of their range, typically because the data show (almost) no customer dropping "
            f"out or no variation in purchase rates; try a small value.penalizer such as 0.001",
            {"reason": "no_finite_optimum", "model": model, "parameters": [str(n) for n in names]},
        )
    params = tuple(float(v) for v in np.exp(res.x))
    return params, bgnbd_loglik(params, x, t_x, T, shift)



def gg_nll(theta: np.ndarray, x: np.ndarray, m: np.ndarray, penalizer: float,
            counts: tuple[np.ndarray, np.ndarray] | None = None,
            logs: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, np.ndarray]:
    """Mean negative Gamma-Gamma log-likelihood of mean repeat values m over x purchases, and its
    gradient in the log-parameters (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 3):
    ll = ln G(px+q) - ln G(px) - ln G(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(v + m x).
    Special functions are evaluated per distinct x, as in :func:`bgnbd_nll`; ``logs`` =
    (ln m, ln x), which do not depend on the parameters, when the optimizer calls it again and again.
    """
    p, q, v = np.exp(theta)
    ux, inv = counts if counts is not None else np.unique(x, return_inverse=True)
    upx = p * ux
    lg, dg_p, dg_q = gammaln(upx + q) - gammaln(upx), psi(upx + q) - psi(upx), psi(upx + q) - psi(q)
    px = p * x
    log_m, log_x = logs if logs is not None else (np.log(m), np.log(x))
    log_vmx = np.log(v + m * x)
    ll = lg[inv] - gammaln(q) + q * np.log(v) + (px - 1) * log_m + px * log_x - (px + q) * log_vmx
    g_p = x * (dg_p[inv] + log_m + log_x - log_vmx)
    g_q = dg_q[inv] + np.log(v) - log_vmx
    g_v = q / v - (px + q) / (v + m * x)
    grad = np.array([g_p.mean() * p, g_q.mean() * q, g_v.mean() * v])
    return -ll.mean() + penalizer * (theta @ theta), -grad + 2.0 * penalizer * theta



def fit_gamma_gamma(x: np.ndarray, m: np.ndarray, penalizer: float
                     ) -> tuple[tuple[float, float, float], float, dict[str, object] | None]:
    """Gamma-Gamma's parameters (p, q, v), its log-likelihood and why it failed, as a fact
    (``{"reason": "gg_no_optimum", "scipy"}`` or ``{"reason": "gg_heavy_tail", "q"}``; NaN
    parameters then), else None."""
    # Order values are fitted in units of their mean (the model is scale-equivariant: v scales,
    # p and q do not), so the optimizer sees numbers near 1 whatever the currency.
    scale = float(m.mean())
    counts = np.unique(x, return_inverse=True)
    scaled = m / scale
    logs = np.log(scaled), np.log(x)
    res = minimize(gg_nll, np.log([1.0, 2.0, 1.0]), args=(x, scaled, penalizer, counts, logs), jac=True,
                   method="L-BFGS-B", bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3,
                   options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
    nan3 = (np.nan, np.nan, np.nan)
    if not _converged(res):
        return nan3, np.nan, {"reason": "gg_no_optimum", "scipy": str(res.message).rstrip(": ")}
    # p running off to infinity is a benign limit (each customer's order values hardly vary around
    # their own mean; expected values tend to the customer's mean), q <= 1 is not.
    p, q, v_scaled = (float(v) for v in np.exp(res.x))
    if q <= 1.0:
        # the model's mean order value p v / (q - 1) is infinite: a heavy tail of mean order values
        return nan3, np.nan, {"reason": "gg_heavy_tail", "q": q}
    # Back to the currency: the density of m is the density of m / scale divided by scale.
    ll = -gg_nll(res.x, x, scaled, 0.0, counts, logs)[0] * len(x) - len(x) * np.log(scale)
    return (p, q, v_scaled * scale), float(ll), None
