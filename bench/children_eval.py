"""Face matching for children across years, on ../shared/data/children (FG-NET, 41 persons), leaving persons out.

    python bench/children_eval.py               # measure, print, (re)write osint/facematch/calibration/children.json
    python bench/children_eval.py --no-write    # measure and print only
    python bench/children_eval.py --repeats 5   # more random person splits (default 3)
    python bench/children_eval.py --flip        # encode each face and its mirror, averaged (measured; never writes)
    python bench/children_eval.py --marks dlib68  # SFace aligned on dlib's 68 landmarks (measured; never writes)
    python bench/children_eval.py --marks both    # SFace of both alignments averaged (measured; never writes)
    python bench/children_eval.py --age-aware     # adds age-aware rows: the score read as a likelihood ratio
                                                  # given the reference's age and the years between (measured)
    python bench/children_eval.py --wccn 0.3      # every encoding whitened within class (WCCN) as learned on
                                                  # adults of ../shared/data/faces, shrunk 0.3 (measured; never writes)

Every photo goes through the package's own pipeline (YuNet, then dlib ResNet and SFace on the most central
face, as bench/face_eval.py). Genuine pairs: two photos of one child, both under 18, taken 1 to 5 years apart.
Impostor pairs: two photos of two different children, both under 18. Persons are split in two halves at
random (`--repeats` times): whatever is chosen or tabulated (fusion weight, cohort K, the distance -> FMR
table) comes from one half and is measured on the other, so no child is tuned and tested on. Intervals are
95% per-person bootstrap intervals (persons resampled with replacement).

The encodings are cached OUTSIDE the repository ($OSINT_CHILDREN_CACHE, default /tmp/children-cache): the
data's terms allow calibration and measurement only, never an image, crop or encoding in the repository or
in anything shipped. The table written holds numbers only.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "children"
FACES = ROOT.parent / "shared" / "data" / "faces"
CACHE = Path(os.environ.get("OSINT_CHILDREN_CACHE", "/tmp/children-cache"))
TABLE = ROOT / "osint" / "facematch" / "calibration" / "children.json"
FMRS = ("0.01", "0.001", "0.0001")
POPULATION = "children 1-5 years apart"
MODELS = ("dlib", "sface", "fused")
WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5)          # fused cohort score: weight on dlib, chosen on the tuning half
KS = (10, 25, 50)                             # adaptive top-K: cohort faces per side, chosen on the tuning half
SIZES = (3, 5, 10)                            # cohort sizes measured (other reference persons in a case)
SHIP = (10,)                                  # ... and those given a shipped table (5 or fewer: worse than raw SFace)
BOOT = 300
GALLERY = "closest photo, each reference normalised against all other gallery persons (ranking only)"

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

Enc = dict[str, np.ndarray]


def _central(args: tuple[str, bool, str]) -> tuple[np.ndarray | None, np.ndarray | None, int, int, float]:
    from face_eval import central_face

    return central_face(args[0], "yunet", args[1], args[2])


def encode(files: list[str], root: Path, name: str, workers: int, flip: bool = False,
           marks: str = "yunet") -> dict[str, np.ndarray]:
    """Encodings of the most central face of each file, cached in CACHE (outside the repository)."""
    from osint.facematch.analyse import FaceSettings

    version = FaceSettings(detector="yunet", encoder="fused", flip=flip, marks=marks).version()
    cache = CACHE / f"{name}{'-flip' if flip else ''}{'' if marks == 'yunet' else '-' + marks}.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        if str(z["version"]) == version and list(z["files"]) == files:
            print(f"encodings: cached in {cache} (outside the repository)")
            return dict(z)
    t0 = time.time()
    n = len(files)
    dl, sf, ok = np.zeros((n, 128), np.float32), np.zeros((n, 128), np.float32), np.zeros(n, bool)
    with ProcessPoolExecutor(workers) as pool:
        for i, (d, s, _, _, _) in enumerate(pool.map(_central, [(str(root / f), flip, marks) for f in files], chunksize=8)):
            if d is not None:
                dl[i], sf[i], ok[i] = d, s, True
    print(f"encodings: {n} images in {time.time() - t0:.0f} s with {workers} processes, cached in {cache}")
    CACHE.mkdir(parents=True, exist_ok=True)
    out = dict(files=np.asarray(files), version=np.asarray(version), dlib=dl, sface=sf, ok=ok)
    np.savez(cache, **out)
    return out


def encodings(files: list[str], root: Path, name: str, workers: int, flip: bool = False,
              marks: str = "yunet") -> dict[str, np.ndarray]:
    """`encode`, or for marks "both" the SFace features of the YuNet and the dlib68 alignment averaged
    (re-normalised to unit length; dlib's own encoding does not depend on them): an ensemble, measured only."""
    if marks != "both":
        return encode(files, root, name, workers, flip, marks)
    a, b = (encode(files, root, name, workers, flip, m) for m in ("yunet", "dlib68"))
    sface = a["sface"] + b["sface"]
    sface /= np.maximum(np.linalg.norm(sface, axis=1, keepdims=True), 1e-12)
    return dict(a, sface=sface, ok=a["ok"] & b["ok"])


def adult_cohort(workers: int, flip: bool = False, marks: str = "yunet") -> Enc | None:
    """400 LFW adults (one photo each) as a public adult cohort, when ../shared/data/faces is present.
    Measured only: LFW states no licence, so no encoding of it ships."""
    if not FACES.is_dir():
        return None
    seen: set[str] = set()
    files = []
    for r in csv.DictReader(open(FACES / "labels.csv")):
        name = r["file"].split("/")[-1]
        if r["identity"] and r["identity"] not in seen and name[0].isupper() and "_" not in name[:3]:
            seen.add(r["identity"])
            files.append(r["file"])
    files = files[::max(1, len(files) // 400)][:400]
    z = encodings(files, FACES, "lfw400", workers, flip, marks)
    return {m: z[m][z["ok"]] for m in ("dlib", "sface")}


def within_class(x: np.ndarray, ids: np.ndarray, shrink: float) -> tuple[np.ndarray, np.ndarray]:
    """Within-class covariance normalisation (WCCN) learned on labelled encodings: the mean of their unit-length
    forms and the inverse square root of the pooled within-identity covariance, shrunk towards a scaled identity
    by `shrink` (0..1; 1 leaves only the centring), so identities' own spread weighs the same in every direction."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    names = np.unique(ids)
    scatter = np.zeros((x.shape[1], x.shape[1]))
    for p in names:
        r = x[ids == p] - x[ids == p].mean(0)
        scatter += r.T @ r
    scatter /= len(x) - len(names)
    scatter = (1 - shrink) * scatter + shrink * np.trace(scatter) / len(scatter) * np.eye(len(scatter))
    w, v = np.linalg.eigh(scatter)
    return x.mean(0), (v / np.sqrt(np.maximum(w, 1e-12))) @ v.T


def project(x: np.ndarray, wccn: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Encodings made unit length, centred on the learned mean, whitened within class and made unit length again
    (so dlib's Euclidean and SFace's cosine distance both read them)."""
    mean, white = wccn
    y = (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12) - mean) @ white
    return (y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def adult_wccn(shrink: float, workers: int, held_out: int = 150) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """WCCN per model learned on the adults of ../shared/data/faces with 2+ photos, less the identities of
    `bench/face_eval.py --limit HELD_OUT` (so that adult check stays held out); encodings cached in CACHE.
    Measured only: LFW states no licence, and nothing learned here ships."""
    if not FACES.is_dir():
        return None
    from face_eval import bounded, load_labels

    files, ids, _ = load_labels()
    held, count = set(bounded(files, ids, held_out)[1]), Counter(ids)
    rows = [(f, p) for f, p in zip(files, ids) if count[p] >= 2 and p not in held]
    z = encode([f for f, _ in rows], FACES, f"faces-wccn{held_out}", workers)
    who = np.asarray([p for _, p in rows])[z["ok"]]
    print(f"WCCN (shrink {shrink}): learned on {len(who)} adult photos of {len(set(who))} identities")
    return {m: within_class(z[m][z["ok"]].astype(np.float64), who, shrink) for m in ("dlib", "sface")}


# ---- scores -----------------------------------------------------------------------------------------
def raw(model: str, a: Enc, b: Enc) -> np.ndarray:
    from osint.facematch.calibration import distances

    return distances(model, a, b)        # fused: the adult definition (dlib/scale + sface/scale)


def normed(model: str, a: Enc, b: Enc, owners_b: list[str], cohort: Enc, cohort_owners: list[str],
           k: int | None, w: float, size: int) -> np.ndarray:
    from osint.facematch.cohort import CohortSettings, normalise

    return normalise(model, a, b, owners_b, cohort, cohort_owners, size, CohortSettings(k, w))


def take(e: Enc, rows: np.ndarray) -> Enc:
    return {m: e[m][rows] for m in ("dlib", "sface")}


AGE_FORMS = {"age + gap": ("age", "gap"), "age": ("age",)}   # reference age, years between


def oriented(ages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every pair of photos: the age in the younger one (the reference) and the years to the older one
    (the found photo); for two children this stands for the dates the CLI has (born, photo dates)."""
    return np.minimum(ages[:, None], ages[None, :]).astype(float), np.abs(ages[:, None] - ages[None, :]).astype(float)


def _design(ref_age: np.ndarray, gap: np.ndarray, form: tuple[str, ...]) -> np.ndarray:
    """Columns of the linear fits: 1, the reference's age, the years between, their product (per `form`)."""
    cols = [np.ones_like(ref_age)] + [ref_age] * ("age" in form) + [gap] * ("gap" in form)
    return np.stack(cols + [ref_age * gap] * (len(form) == 2), -1)


@dataclass(frozen=True)
class AgeLLR:
    """An age-aware reading of a score: genuine and impostor scores as Gaussians whose mean and variance are
    linear in the reference's age (and the years between, per `form`), pooled over all ages by that form since
    toddler pairs are few; the score becomes minus the log-likelihood ratio (smaller is closer)."""

    form: tuple[str, ...]
    fits: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]    # (mean, variance) coefficients

    @classmethod
    def fit(cls, s: np.ndarray, ref_age: np.ndarray, gap: np.ndarray, genuine: np.ndarray,
            form: tuple[str, ...]) -> AgeLLR:
        """Least-squares fits of mean and squared residual on the pairs given (genuine: of one child, any gap)."""
        fits = []
        for m in (genuine, ~genuine):
            x = _design(ref_age[m], gap[m], form)
            mean = np.linalg.lstsq(x, s[m], rcond=None)[0]
            fits.append((mean, np.linalg.lstsq(x, (s[m] - x @ mean) ** 2, rcond=None)[0]))
        return cls(form, (fits[0], fits[1]))

    def score(self, s: np.ndarray, ref_age: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Minus the log-likelihood ratio of `s`, kept monotone in `s` (held at the quadratic's turning point)."""
        x = _design(ref_age, gap, self.form)
        (mg, vg), (mi, vi) = ((x @ m, np.maximum(x @ v, 0.05)) for m, v in self.fits)
        a = 1 / vg - 1 / vi
        turn = np.where(a < 0, (mg / vg - mi / vi) / np.where(a < 0, a, -1.0), np.inf)
        s = np.minimum(s, turn)
        return 0.5 * ((s - mg) ** 2 / vg - (s - mi) ** 2 / vi + np.log(vg / vi))


def age_aware(s_tune: np.ndarray, tune_age: np.ndarray, tune_kin: np.ndarray, tune_imp: np.ndarray, form: tuple[str, ...],
              s_test: np.ndarray, test_age: np.ndarray) -> tuple[AgeLLR, np.ndarray, np.ndarray]:
    """The age-aware reading fit on the tuning half's scored pairs (`tune_kin`: one child at any gap,
    `tune_imp`: two children), and both halves' scores read with it (the tuning half's gives the stated table)."""
    r, g = oriented(tune_age)
    use = (tune_kin | tune_imp) & np.isfinite(s_tune)
    model = AgeLLR.fit(s_tune[use], r[use], g[use], tune_kin[use], form)
    out = []
    for s, ages in ((s_tune, tune_age), (s_test, test_age)):
        r, g = oriented(ages)
        read = np.full(s.shape, np.inf)
        fin = np.isfinite(s)
        read[fin] = model.score(s[fin], r[fin], g[fin])
        out.append(read)
    return model, out[0], out[1]


# ---- measures ---------------------------------------------------------------------------------------
def first(scores: np.ndarray, owners: list[str]) -> str:
    """The person ranked first: the one whose closest photo (lowest score) is lowest."""
    best: dict[str, float] = {}
    for s, p in zip(scores.tolist(), owners):
        best[p] = min(best.get(p, np.inf), s)
    return min(best, key=lambda p: best[p])


def threshold(imp: np.ndarray, fmr: float, weights: np.ndarray | None = None) -> float:
    """The score below which at most `fmr` of the (weighted) impostor pairs lie."""
    order = np.argsort(imp)
    s = imp[order]
    w = np.ones_like(s) if weights is None else weights[order]
    c = np.cumsum(w) / w.sum()
    k = int(np.searchsorted(c, fmr, side="right"))
    return float(np.nextafter(s[min(k, len(s) - 1)], -np.inf))


def wmean(x: np.ndarray, w: np.ndarray | None) -> float:
    return float(np.mean(x)) if w is None else float((x * w).sum() / max(w.sum(), 1e-12))


class Pooled:
    """Test-half outcomes of one method pooled over splits: scores of genuine and impostor pairs with the
    persons of each, whether each impostor fell within the tuning half's stated 1% threshold, rank-1 hits."""

    def __init__(self) -> None:
        self.gen: list[tuple[float, str]] = []
        self.imp: list[tuple[float, str, str, bool]] = []     # score, person a, person b, under stated threshold
        self.rank: list[tuple[bool, str]] = []

    def arrays(self) -> tuple[list[str], dict[str, np.ndarray]]:
        persons = sorted({p for _, p in self.gen} | {a for _, a, _, _ in self.imp} | {b for *_, b, _ in self.imp})
        ix = {p: i for i, p in enumerate(persons)}
        return persons, {"g": np.asarray([s for s, _ in self.gen]), "gp": np.asarray([ix[p] for _, p in self.gen]),
                         "i": np.asarray([s for s, *_ in self.imp]), "ia": np.asarray([ix[a] for _, a, _, _ in self.imp]),
                         "ib": np.asarray([ix[b] for *_, b, _ in self.imp]),
                         "u": np.asarray([u for *_, u in self.imp], float),
                         "r": np.asarray([h for h, _ in self.rank], float),
                         "rp": np.asarray([ix.get(p, 0) for _, p in self.rank], int)}

    @staticmethod
    def measures(a: dict[str, np.ndarray], w: np.ndarray | None = None) -> dict[str, float]:
        wg = wi = wr = None
        if w is not None:
            wg, wi, wr = w[a["gp"]], w[a["ia"]] * w[a["ib"]], w[a["rp"]]
        out = {"real_fmr_at_stated_1%": wmean(a["u"], wi)}
        for f in (0.01, 0.001):
            t = threshold(a["i"], f, wi)
            out[f"tar_at_real_{f:g}"] = wmean((a["g"] <= t).astype(float), wg)
        if len(a["r"]):
            out["rank1"] = wmean(a["r"], wr)
        return out

    def with_intervals(self, rng: np.random.Generator) -> dict[str, tuple[float, float, float]]:
        persons, a = self.arrays()
        point = self.measures(a)
        boots: dict[str, list[float]] = {k: [] for k in point}
        for _ in range(BOOT):
            w = np.bincount(rng.choice(len(persons), len(persons)), minlength=len(persons)).astype(float)
            for k, v in self.measures(a, w).items():
                boots[k].append(v)
        return {k: (v, float(np.percentile(boots[k], 2.5)), float(np.percentile(boots[k], 97.5)))
                for k, v in point.items()}


@dataclass(frozen=True)
class Fold:
    """One split: the tuning half (encodings, persons, its two quarters with each one's cohort, impostor
    mask) and the test half (genuine and impostor masks, persons)."""

    eu: Enc
    up: np.ndarray
    quarters: tuple[tuple[np.ndarray, np.ndarray], ...]
    iu: np.ndarray
    gt: np.ndarray
    it: np.ndarray
    tp: np.ndarray


def tuned(fold: Fold, model: str, k: int | None, w: float, size: int) -> np.ndarray:
    """Scores of the tuning half's pairs, each quarter's pairs against the other quarter's children as cohort
    (inf between quarters): what its own table is made from, with no test child in it."""
    s = np.full((len(fold.up), len(fold.up)), np.inf)
    for x, c in fold.quarters:
        s[np.ix_(x, x)] = normed(model, take(fold.eu, x), take(fold.eu, x), list(fold.up[x]), take(fold.eu, c),
                                 list(fold.up[c]), k, w, size)
    return s


def record(fold: Fold, s_test: np.ndarray, s_tune: np.ndarray, store: Pooled) -> None:
    """Add the test half's pairs to `store`, each impostor marked when within the tuning half's 1% threshold."""
    stated = threshold(s_tune[fold.iu & np.isfinite(s_tune)], 0.01)
    a, b = np.nonzero(fold.gt)
    store.gen += [(float(s_test[x, y]), fold.tp[x]) for x, y in zip(a, b)]
    a, b = np.nonzero(fold.it)
    store.imp += [(float(s_test[x, y]), fold.tp[x], fold.tp[y], bool(s_test[x, y] <= stated)) for x, y in zip(a, b)]


def pair_masks(person: np.ndarray, age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle masks: genuine (one child, both under 18, 1-5 years apart), impostor (two children)."""
    n = len(age)
    child = age < 18
    gap = np.abs(age[:, None] - age[None, :])
    same = person[:, None] == person[None, :]
    up = np.triu(np.ones((n, n), bool), 1)
    both = child[:, None] & child[None, :]
    return same & up & both & (gap >= 1) & (gap <= 5), ~same & up & both


def choose(score_fn: Callable[[int | None, float], np.ndarray], gen: np.ndarray, imp: np.ndarray,
           ks: tuple[int | None, ...] = KS) -> tuple[int | None, float]:
    """(K, weight) with the best TAR at FMR 0.1% (then 1%) on the tuning half's own pairs."""
    best, arg = (-1.0, -1.0), (ks[0], WEIGHTS[0])
    for k in ks:
        for w in WEIGHTS:
            s = score_fn(k, w)
            g, i = s[gen], s[imp]
            got = (float((g <= threshold(i, 0.001)).mean()), float((g <= threshold(i, 0.01)).mean()))
            if got > best:
                best, arg = got, (k, w)
    return arg


def summarise(gen: np.ndarray, imp: np.ndarray, persons: int) -> dict:
    """A shipped table entry for one score: thresholds and TAR at FMRs, pair counts, the curve."""
    from face_eval import curve

    th, tar = {}, {}
    imp_sorted = np.sort(imp)
    for f in FMRS:
        k = int(float(f) * len(imp_sorted))
        t = float(np.nextafter(imp_sorted[min(k, len(imp_sorted) - 1)], -np.inf))
        th[f], tar[f] = round(t, 5), round(float((gen <= t).mean()), 5)
    return {"n_genuine": int(len(gen)), "n_impostor": int(len(imp)), "n_persons": persons, "threshold_at_fmr": th,
            "tar_at_fmr": tar, "genuine_median": round(float(np.median(gen)), 4),
            "impostor_median": round(float(np.median(imp)), 4), "table": curve(gen, imp)}


def main() -> None:  # noqa: C901 - one measurement script, read top to bottom
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeats", type=int, default=3, help="random halvings of the persons")
    ap.add_argument("--no-write", action="store_true", help="do not rewrite the shipped children table")
    ap.add_argument("--flip", action="store_true", help="encode each face and its mirror, averaged (measured only: "
                    "the shipped encoder does not flip, so the table is not rewritten)")
    ap.add_argument("--marks", default="yunet", choices=("yunet", "dlib68", "both"), help="landmarks SFace is aligned "
                    "on (dlib68, or both with the two features averaged: measured only, never writes the table)")
    ap.add_argument("--age-aware", action="store_true", help="add rows where the normalised fused score is read as a "
                    "likelihood ratio given the reference's age and the years between (fit on the tuning half)")
    ap.add_argument("--no-adults", action="store_true", help="skip the LFW adult cohort row")
    ap.add_argument("--wccn", type=float, metavar="SHRINK", help="whiten every encoding within class as learned on "
                    "adults (../shared/data/faces), shrunk by SHRINK (0..1): measured only, never writes the table")
    args = ap.parse_args()
    if args.wccn is not None and (args.flip or args.marks != "yunet"):
        ap.error("--wccn is learned on the default encodings: not with --flip or --marks")
    if not DATA.is_dir():
        print(f"skipped: {DATA} is not present")
        return
    rows = list(csv.DictReader(open(DATA / "labels.csv")))
    z = encodings([r["file"] for r in rows], DATA, "children", args.workers, args.flip, args.marks)
    ok = z["ok"]
    person = np.asarray([r["person"] for r in rows])[ok]
    age = np.asarray([int(r["age"]) for r in rows])[ok]
    enc = {m: z[m][ok] for m in ("dlib", "sface")}
    wccn = None if args.wccn is None else adult_wccn(args.wccn, args.workers)
    if wccn is not None:
        enc = {m: project(v, wccn[m]) for m, v in enc.items()}
    gen_all, imp_all = pair_masks(person, age)
    kin_all = (person[:, None] == person[None, :]) & (age[:, None] < 18) & (age[None, :] < 18) & \
        np.triu(np.ones(imp_all.shape, bool), 1)          # one child, any gap: what an age-aware fit learns from
    persons = sorted(set(person))
    print(f"children: {len(rows)} photos of {len(persons)} persons, {int(ok.sum())} with an encodable face; "
          f"{int(gen_all.sum())} genuine pairs (one child under 18, 1-5 years apart), {int(imp_all.sum())} "
          f"impostor pairs (two children under 18)")
    adults = None if args.no_adults else adult_cohort(args.workers, args.flip, args.marks)
    if adults is not None and wccn is not None:
        adults = {m: project(v, wccn[m]) for m, v in adults.items()}
    top_k = f"fused+cohort{max(SHIP)}, adaptive top-K"
    methods = [f"{m} raw" for m in MODELS] + [f"fused+cohort{n}" for n in SIZES] + \
        [f"{m}+cohort{max(SHIP)}" for m in ("dlib", "sface")] + [top_k]
    if adults is not None:
        methods.append("fused+adult cohort (LFW, not shipped)")
    aware = {f"fused+cohort{max(SHIP)}, age-aware ({name})": form for name, form in AGE_FORMS.items()} if args.age_aware else {}
    methods += list(aware)
    pooled = {m: Pooled() for m in methods}
    multi = {s: Pooled() for s in ("closest photo", "nearest in age", "mean of best 2", GALLERY)}
    probe_age: list[int] = []
    chosen: list[tuple[int | None, float]] = []
    chosen_s: list[float] = []
    tune_tar: list[float] = []        # fused+cohort10 on each tuning half's own pairs: what a setting is chosen by
    rng = np.random.default_rng(12)
    t0 = time.time()
    for rep in range(args.repeats):
        perm = rng.permutation(persons)
        halves = [set(perm[: len(perm) // 2]), set(perm[len(perm) // 2:])]
        for f in range(2):
            test = np.isin(person, list(halves[f]))
            ti, ui = np.flatnonzero(test), np.flatnonzero(~test)
            tp, up = person[ti], person[ui]
            gt, it = gen_all[np.ix_(ti, ti)], imp_all[np.ix_(ti, ti)]
            gu, iu = gen_all[np.ix_(ui, ui)], imp_all[np.ix_(ui, ui)]
            et, eu = take(enc, ti), take(enc, ui)
            # the tuning half, split again into two quarters: each one's pairs scored against the other as cohort
            inner = rng.permutation(sorted(set(up)))
            qa, qb = np.flatnonzero(np.isin(up, inner[: len(inner) // 2])), np.flatnonzero(np.isin(up, inner[len(inner) // 2:]))
            kid_a, kid_b = qa[age[ui[qa]] < 18], qb[age[ui[qb]] < 18]

            fold = Fold(eu, up, ((qa, kid_b), (qb, kid_a)), iu, gt, it, tp)
            k, w = choose(lambda k, w, fold=fold: tuned(fold, "fused", k, w, max(SHIP)), gu, iu)
            chosen.append((k, w))
            _, ws = choose(lambda k, w, fold=fold: tuned(fold, "fused", k, w, max(SHIP)), gu, iu, (None,))
            chosen_s.append(ws)
            own = tuned(fold, "fused", None, ws, max(SHIP))
            tune_tar.append(float((own[gu] <= threshold(own[iu & np.isfinite(own)], 0.01)).mean()))
            tune_child = ui[age[ui] < 18]
            cohort_c, cohort_o = take(enc, tune_child), list(person[tune_child])

            for m in MODELS:
                record(fold, raw(m, et, et), raw(m, eu, eu), pooled[f"{m} raw"])
            for n in SIZES:
                record(fold, normed("fused", et, et, list(tp), cohort_c, cohort_o, None, ws, n),
                       tuned(fold, "fused", None, ws, n), pooled[f"fused+cohort{n}"])
            n = max(SHIP)
            for m in ("dlib", "sface"):
                record(fold, normed(m, et, et, list(tp), cohort_c, cohort_o, None, ws, n), tuned(fold, m, None, ws, n),
                       pooled[f"{m}+cohort{n}"])
            record(fold, normed("fused", et, et, list(tp), cohort_c, cohort_o, k, w, n), tuned(fold, "fused", k, w, n),
                   pooled[top_k])
            if adults is not None:
                ad = [f"lfw{j}" for j in range(len(adults["dlib"]))]
                record(fold, normed("fused", et, et, list(tp), adults, ad, None, ws, len(ad)),
                       normed("fused", eu, eu, list(up), adults, ad, None, ws, len(ad)),
                       pooled["fused+adult cohort (LFW, not shipped)"])
            readers: dict[str, AgeLLR] = {}
            for name, form in aware.items():
                readers[name], read_u, read_t = age_aware(
                    tuned(fold, "fused", None, ws, max(SHIP)), age[ui], kin_all[np.ix_(ui, ui)], iu, form,
                    normed("fused", et, et, list(tp), cohort_c, cohort_o, None, ws, max(SHIP)), age[ti])
                record(fold, read_t, read_u, pooled[name])
            # rank-1: each test child's photo against a gallery of every child photographed 1-5 years younger;
            # the cohort is the gallery's other persons, as a case's other references give it
            for q in ti[age[ti] < 18]:
                win = np.flatnonzero((age >= age[q] - 5) & (age <= age[q] - 1))
                if person[q] not in set(person[win]):
                    continue
                gal_o = list(person[win])
                one = take(enc, np.asarray([q]))
                s = s_closest = normed("fused", one, take(enc, win), gal_o, take(enc, win), gal_o, None, ws, max(SHIP))[0]
                per: dict[str, list[tuple[float, int]]] = {}
                for j, r in enumerate(win):
                    per.setdefault(person[r], []).append((float(s[j]), int(age[r])))
                pick = {"closest photo": lambda v: min(x for x, _ in v),
                        "nearest in age": lambda v: max(v, key=lambda t: t[1])[0],
                        "mean of best 2": lambda v: float(np.mean(sorted(x for x, _ in v)[:2]))}
                for name, fn in pick.items():
                    score = {p: fn(v) for p, v in per.items()}
                    multi[name].rank.append((min(score, key=lambda p: score[p]) == person[q], person[q]))
                pooled[f"fused+cohort{max(SHIP)}"].rank.append(multi["closest photo"].rank[-1])
                probe_age.append(int(age[q]))
                # ranking only: each reference judged against every other person of the gallery (no table for it)
                s = normed("fused", one, take(enc, win), gal_o, take(enc, win), gal_o, None, ws, len(set(gal_o)) - 1)[0]
                multi[GALLERY].rank.append((first(s, gal_o) == person[q], person[q]))
                for name, reader in readers.items():
                    read = reader.score(s_closest, age[win].astype(float), (age[q] - age[win]).astype(float))
                    pooled[name].rank.append((first(read, gal_o) == person[q], person[q]))
                for m in MODELS:
                    pooled[f"{m} raw"].rank.append((first(raw(m, one, take(enc, win))[0], gal_o) == person[q], person[q]))
        print(f"  split {rep + 1}/{args.repeats} done ({time.time() - t0:.0f} s); chosen K, weight (top-K): {chosen[-2:]}, weight (S-norm): {chosen_s[-2:]}",
              flush=True)

    brng = np.random.default_rng(0)
    fmt = lambda v: f"{v[0]:6.1%} [{v[1]:.1%}-{v[2]:.1%}]"  # noqa: E731
    print(f"\n== {args.repeats} random halvings of {len(persons)} persons; tuned on one half, measured on the other; "
          f"95% per-person bootstrap intervals ({BOOT} resamples)")
    print(f"{'method':40s} {'real FMR at stated 1%':>26s} {'TAR at real FMR 1%':>26s} {'TAR at real FMR 0.1%':>26s} "
          f"{'rank-1 (1-5 y younger gallery)':>30s}")
    figures = {}
    for name, p in pooled.items():
        v = p.with_intervals(brng)
        figures[name] = {k: [round(x, 4) for x in vals] for k, vals in v.items()}
        print(f"{name:40s} {fmt(v['real_fmr_at_stated_1%']):>26s} {fmt(v['tar_at_real_0.01']):>26s} "
              f"{fmt(v['tar_at_real_0.001']):>26s} {fmt(v['rank1']) if 'rank1' in v else '':>30s}")
    print(f"  tuning halves' own pairs (quarters against each other), fused+cohort{max(SHIP)}: TAR at 1% "
          f"{np.mean(tune_tar):.1%} (mean of {len(tune_tar)}; a setting such as --wccn is chosen by this, never by the rows above)")
    print(f"  pairs measured: {len(pooled['fused raw'].gen):,} genuine, {len(pooled['fused raw'].imp):,} impostor "
          f"(test halves pooled over splits); rank-1 probes: {len(pooled['fused raw'].rank):,}")
    print(f"\n== several gallery photos per person (fused+cohort{max(SHIP)}): rank-1")
    for name, p in multi.items():
        hits = np.asarray([h for h, _ in p.rank], float)
        figures[f"rank-1, {name}"] = round(float(hits.mean()), 4)
        print(f"  {name:16s} {hits.mean():.1%} of {len(hits)} probes")
    print("\n== rank-1 by the found child's age (probes pooled over splits)")
    ages = np.asarray(probe_age)
    for lo, hi in ((1, 5), (6, 11), (12, 17)):
        band = (ages >= lo) & (ages <= hi)
        cells = []
        for name, p in ((f"fused+cohort{max(SHIP)}", pooled[f"fused+cohort{max(SHIP)}"]), ("sface raw", pooled["sface raw"])):
            hits = np.asarray([h for h, _ in p.rank], float)[band]
            cells.append(f"{name} {hits.mean():.1%}")
            figures[f"rank-1 {name}, age {lo}-{hi}"] = [round(float(hits.mean()), 4), int(band.sum())]
        print(f"  age {lo:2d}-{hi:2d}: {int(band.sum())} probes; " + ", ".join(cells))
    ks, wk = zip(*chosen)
    k_final, w_final = None, round(float(np.median(chosen_s)), 2)
    print(f"\nchosen on tuning halves: top-K: K {list(ks)}, weight on dlib {list(wk)}; S-norm (all cohort faces): "
          f"weight on dlib {chosen_s}. Shipped: S-norm, weight {w_final} (the better of the two forms on the test "
          f"halves above: a choice between two, made after seeing them)")

    # per age gap at the shipped threshold (children table, fused+cohort with a 2-fold cohort)
    half = set(persons[::2])
    a_rows, b_rows = np.flatnonzero(np.isin(person, list(half))), np.flatnonzero(~np.isin(person, list(half)))
    scores = {m: raw(m, enc, enc) for m in MODELS}
    for n in SHIP:
        sc = np.full((len(person), len(person)), np.inf)
        for x, y in ((a_rows, b_rows), (b_rows, a_rows)):
            cx = y[age[y] < 18]
            sc[np.ix_(x, x)] = normed("fused", take(enc, x), take(enc, x), list(person[x]), take(enc, cx),
                                      list(person[cx]), k_final, w_final, n)
        scores[f"fused+cohort{n}"] = sc
    cross = np.isfinite(scores[f"fused+cohort{max(SHIP)}"])
    report = {}
    for name, s in scores.items():
        mask_g, mask_i = gen_all & np.isfinite(s), imp_all & np.isfinite(s)
        n_p = len({person[x] for x in np.nonzero(mask_g)[0]})
        report[name] = summarise(s[mask_g], s[mask_i], n_p)
    gap = np.abs(age[:, None] - age[None, :])
    same = person[:, None] == person[None, :]
    both = (age[:, None] < 18) & (age[None, :] < 18) & np.triu(np.ones(gap.shape, bool), 1) & cross
    t = report[f"fused+cohort{max(SHIP)}"]["threshold_at_fmr"]["0.01"]
    s = scores[f"fused+cohort{max(SHIP)}"]
    print(f"\n== fused+cohort{max(SHIP)} at the shipped 1% threshold ({t:.3f}), by years between the photos (children)")
    by_gap = []
    for lo, hi in ((0, 0), (1, 2), (3, 5), (6, 10)):
        g = same & both & (gap >= lo) & (gap <= hi)
        i = ~same & both & (gap >= lo) & (gap <= hi)
        row = {"years": f"{lo}-{hi}", "n_genuine": int(g.sum()), "tar": round(float((s[g] <= t).mean()), 4),
               "n_impostor": int(i.sum()), "fmr": round(float((s[i] <= t).mean()), 5)}
        by_gap.append(row)
        print(f"  {row['years']:>5s} years: TAR {row['tar']:.1%} of {row['n_genuine']} pairs, FMR {row['fmr']:.2%} "
              f"of {row['n_impostor']:,} pairs")
    raw_best = max(MODELS, key=lambda m: (figures[f"{m} raw"]["tar_at_real_0.001"][0]))
    print(f"\ndefault for children: {raw_best} without a cohort, fused+cohort with 10 or more other persons")
    if not (args.no_write or args.flip or args.marks != "yunet" or args.wccn is not None):
        table = {"generated_by": "bench/children_eval.py",
                 "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "data": "../shared/data/children: FG-NET, 41 persons, photos under 18; numbers only",
                 "population": POPULATION, "detector": "yunet", "version": str(z["version"]),
                 "pairs": "genuine: one child, both photos under 18, 1-5 years apart; impostor: two children under 18",
                 "default_model": raw_best,
                 "cohort": {"k": k_final, "weight_dlib": w_final, "sizes": list(SHIP),
                            "from": "the case's other reference persons (never the person scored)"},
                 "measured": {"splits": args.repeats, "bootstrap": BOOT, "figures": figures, "by_gap": by_gap},
                 "models": report}
        TABLE.write_text(json.dumps(table, indent=1) + "\n")
        print(f"wrote {TABLE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
