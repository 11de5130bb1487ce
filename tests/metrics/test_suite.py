"""The drift suite: names, finite values, pictures by data kind, extras, logging, the UMAP map passed
in, bad inputs."""
import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from bootdrift_avalanche.metrics import (
    TAG_SUFFIX,
    DriftSuite,
    IdentityFeatures,
    SuiteConfig,
    make_extractor,
    sample_picture,
    tag_for,
)
from bootdrift_avalanche.pictures import sample_grid as G
from bootdrift_avalanche.metrics.qualifiers import qualified
from bootdrift_avalanche.logging import log_values
from bootdrift_avalanche.metrics.umap import UMAPProjection


def _points(n_per_class=20, classes=3, shift=0.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(classes).repeat_interleave(n_per_class)
    centres = torch.tensor([[3.0 * c, 0.0] for c in range(classes)])
    return centres[y] + 0.5 * torch.randn(len(y), 2, generator=g) + shift, y


def _images(n_per_class=6, classes=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(classes).repeat_interleave(n_per_class)
    x = 0.2 * torch.rand(len(y), 1, 8, 8, generator=g)
    for c in range(classes):
        x[y == c, :, 2 * c + 1, :] += 0.7
    return x, y


FAST = dict(real_acc_epochs=2, otdd_max_samples=None, intervals=0)


def test_points_names_finite_values_and_scatter():
    rx, ry = _points(seed=1)
    sx, sy = _points(seed=2, shift=0.3)
    vals = DriftSuite(IdentityFeatures(), SuiteConfig(**FAST)).evaluate(rx, ry, sx, sy, title="stage 2")
    names = set(vals.scalars)
    assert {"FID_identity", "CFID_identity", "OTDD_identity", "RealAcc", "RealAccChance", "DriftTime"} <= names
    assert {f"CFID_identity/Class{c:03d}" for c in range(3)} <= names
    assert all(isinstance(v, float) and math.isfinite(v) for v in vals.scalars.values())
    assert vals.scalars["RealAccChance"] == pytest.approx(1 / 3) and 0 <= vals.scalars["RealAcc"] <= 1
    assert vals.scalars["DriftTime"] > 0
    assert isinstance(vals.figures["Samples"], Figure) and not vals.images
    assert vals.figures["Samples"].axes[0].get_title() == "stage 2"


def test_same_sets_give_same_values_and_drift_grows_with_shift():
    rx, ry = _points(seed=1)
    suite = DriftSuite(IdentityFeatures(), SuiteConfig(samples=False, **FAST))
    near = suite.evaluate(rx, ry, *_points(seed=2, shift=0.1))
    again = suite.evaluate(rx, ry, *_points(seed=2, shift=0.1))
    far = suite.evaluate(rx, ry, *_points(seed=2, shift=2.0))
    for k in ("FID_identity", "CFID_identity", "OTDD_identity", "RealAcc"):
        assert near.scalars[k] == again.scalars[k]
    for k in ("FID_identity", "CFID_identity", "OTDD_identity"):
        assert near.scalars[k] < far.scalars[k]


def test_images_give_a_grid_and_precomputed_real_features_are_used():
    rx, ry = _images(seed=1)
    sx, sy = _images(seed=2)
    suite = DriftSuite(IdentityFeatures(), SuiteConfig(grid_per_class=4, real_accuracy=False, otdd=False, intervals=0))
    vals = suite.evaluate(rx, ry, sx, sy, real_features=suite.real_features(rx))
    grid = vals.images["Samples"]
    assert grid.dim() == 3 and grid.shape[0] == 3 and 0 <= grid.min() and grid.max() <= 1
    # a header line, 2 class rows; a label margin, 4 real and 4 synthetic 8x8 images enlarged to 32x32
    assert tuple(grid.shape[1:]) == (G.LINE_H + 2 * (32 + G.PAD), G.LABEL_W + 2 * 4 * (32 + G.PAD) + G.GAP)
    assert "Samples" not in vals.figures and "OTDD_identity" not in vals.scalars
    with pytest.raises(ValueError, match="real_features must have one row per real sample"):
        suite.evaluate(rx, ry, sx, sy, real_features=torch.zeros(3, 64))


def test_sample_grid_puts_real_beside_synthetic_enlarged_and_labelled():
    rx, ry = _images(n_per_class=3, classes=3, seed=1)
    sx, sy = _images(n_per_class=2, classes=3, seed=2)  # fewer synthetic than per_class: grey cells
    grid = (sample_picture(sx, sy, per_class=3, real_x=rx, real_y=ry, title="after experience 1") * 255).round()
    top, block_w = 2 * G.LINE_H, 3 * (32 + G.PAD)
    assert tuple(grid.shape) == (3, top + 3 * (32 + G.PAD), G.LABEL_W + 2 * block_w + G.GAP)

    def cell(block, row, col):
        x0, y0 = G.LABEL_W + block * (block_w + G.GAP) + col * (32 + G.PAD), top + row * (32 + G.PAD)
        return grid[0, y0:y0 + 32, x0:x0 + 32]

    def enlarged(img):  # nearest neighbour: every pixel a 4x4 block, no interpolated value
        return (img[0] * 255).round().repeat_interleave(4, 0).repeat_interleave(4, 1)

    for c in range(3):
        assert torch.equal(cell(0, c, 2), enlarged(rx[ry == c][2]))  # real of class c, left block
        assert torch.equal(cell(1, c, 1), enlarged(sx[sy == c][1]))  # synthetic of class c, right block
        assert (cell(1, c, 2) == G.EMPTY).all()
        label = grid[0, top + c * (32 + G.PAD):top + (c + 1) * (32 + G.PAD), :G.LABEL_W]
        assert (label < 128).any()  # "class c" is written in the margin of its row
    assert (grid[0, :top, :] < 128).any()  # title and header lines
    only = sample_picture(sx, sy, per_class=3)  # no real images: the synthetic block alone
    assert tuple(only.shape[1:]) == (G.LINE_H + 3 * (32 + G.PAD), G.LABEL_W + block_w)
    assert sample_picture(torch.rand(6, 5), torch.zeros(6, dtype=torch.long)) is None
    # class_names relabels a row (a task-incremental pair "t1 c0" behind generator label 2) and only it
    named = (sample_picture(sx, sy, per_class=3, real_x=rx, real_y=ry, title="after experience 1",
                            class_names={2: "t1 c0"}) * 255).round()
    rows = [slice(top + c * (32 + G.PAD), top + (c + 1) * (32 + G.PAD)) for c in range(3)]
    assert torch.equal(named[:, rows[0]], grid[:, rows[0]]) and torch.equal(named[:, rows[1]], grid[:, rows[1]])
    assert not torch.equal(named[:, rows[2], :G.LABEL_W], grid[:, rows[2], :G.LABEL_W])
    assert torch.equal(named[:, rows[2], G.LABEL_W:], grid[:, rows[2], G.LABEL_W:])


def test_extra_metrics_are_merged_and_checked():
    rx, ry = _points(seed=1)
    sx, sy = _points(seed=2)
    suite = DriftSuite(IdentityFeatures(), SuiteConfig(fid=False, cfid=False, otdd=False, kid=False,
                                                       real_accuracy=False, samples=False, intervals=0))
    seen = {}

    def extra(x, y):
        seen["n"] = len(x)
        return {"ModesCovered": 3, "ModeStdRatio": float("nan")}

    vals = suite.evaluate(rx, ry, sx, sy, extra=extra)
    assert seen["n"] == len(sx)
    assert vals.scalars["ModesCovered"] == 3.0 and isinstance(vals.scalars["ModesCovered"], float)
    assert math.isnan(vals.scalars["ModeStdRatio"])  # kept: a mode statistic may be undefined
    assert set(vals.scalars) == {"ModesCovered", "ModeStdRatio", "DriftTime", "DriftSamplesPerClass"}
    with pytest.raises(ValueError, match="'DriftTime' clashes"):
        suite.evaluate(rx, ry, sx, sy, extra=lambda x, y: {"DriftTime": 1.0})
    with pytest.raises(ValueError, match="'Modes' returned 'many', not a number"):
        suite.evaluate(rx, ry, sx, sy, extra=lambda x, y: {"Modes": "many"})


def test_bad_inputs_raise_clear_errors():
    rx, ry = _points()
    suite = DriftSuite(IdentityFeatures(), SuiteConfig(**FAST))
    with pytest.raises(ValueError, match=r"synthetic samples have shape \(3,\).*\(2,\) \(stage 1\)"):
        suite.evaluate(rx, ry, torch.rand(60, 3), ry, title="stage 1")
    with pytest.raises(ValueError, match="syn_y must be 1-D with one label per feature row"):
        suite.evaluate(rx, ry, rx, ry[:-1])
    with pytest.raises(TypeError, match="real_y must hold integer class labels"):
        suite.evaluate(rx, ry + 0.5, rx, ry)
    with pytest.raises(TypeError, match="syn_x must be a torch.Tensor"):
        suite.evaluate(rx, ry, rx.numpy(), ry)
    bad = rx.clone()
    bad[3] = float("nan")
    with pytest.raises(FloatingPointError, match="NaN or Inf.*stage 4"):
        suite.evaluate(rx, ry, bad, ry, title="stage 4")
    with pytest.raises(ValueError, match="real_x contains NaN"):
        suite.evaluate(bad, ry, rx, ry)
    with pytest.raises(TypeError, match="feature extractor must be callable.*`name`"):
        DriftSuite(lambda x: x)
    with pytest.raises(ValueError, match="otdd_inner"):
        SuiteConfig(otdd_inner="sinkhorn", intervals=0)
    with pytest.raises(ValueError, match="real_acc_epochs"):
        SuiteConfig(real_acc_epochs=0, intervals=0)


def test_tags_and_log_values_through_loggers():
    from avalanche.evaluation.metric_results import TensorImage

    assert tag_for("FID_clf") == "FID_clf" + TAG_SUFFIX
    assert tag_for("CFID_clf/Class003") == f"CFID_clf{TAG_SUFFIX}/Class003"
    assert qualified("CFID_clf/Class003", "_unguided") == "CFID_clf_unguided/Class003"
    assert tag_for(qualified("RealAcc", "_unguided")) == "RealAcc_unguided" + TAG_SUFFIX

    class Recorder:
        def __init__(self):
            self.calls = []

        def log_single_metric(self, name, value, x_plot):
            self.calls.append((name, value, x_plot))

    rx, ry = _images(seed=1)
    vals = DriftSuite(make_extractor("identity"), SuiteConfig(real_accuracy=False, otdd=False, intervals=0)).evaluate(
        rx, ry, *_images(seed=2))
    loggers = [Recorder(), Recorder()]
    log_values(loggers, vals, step=7)
    for lg in loggers:
        by_name = {n: v for n, v, _ in lg.calls}
        assert {x for _, _, x in lg.calls} == {7}
        assert isinstance(by_name["Samples" + TAG_SUFFIX], TensorImage)
        assert by_name["FID_identity" + TAG_SUFFIX] == vals.scalars["FID_identity"]
        assert f"CFID_identity{TAG_SUFFIX}/Class001" in by_name


def test_evaluation_and_extractor_training_leave_the_global_rng_alone(tmp_path):
    rx, ry = _images(seed=1)
    state = torch.get_rng_state()
    extractor = make_extractor("clf", rx, ry, cache_dir=tmp_path)
    DriftSuite(extractor, SuiteConfig(real_acc_epochs=1, intervals=0)).evaluate(rx, ry, *_images(seed=2))
    make_extractor("clf", rx, ry, cache_dir=tmp_path)  # loaded from the cache
    assert torch.equal(torch.get_rng_state(), state)


def test_umap_is_drawn_in_the_projection_passed():
    from sklearn.decomposition import PCA

    rx, ry = _points(seed=1)
    proj = UMAPProjection(rx, ry, reducer=PCA(2))
    suite = DriftSuite(IdentityFeatures(), SuiteConfig(umap=True, samples=False, real_accuracy=False, **FAST))
    figs = [suite.evaluate(rx, ry, *_points(seed=s, shift=s), umap_projection=proj, title=f"stage {s}")
            .figures["UMAP_identity"] for s in (2, 3)]
    (real_a, syn_a), (real_b, syn_b) = (f.axes[0].collections for f in figs)
    assert np.array_equal(real_a.get_offsets(), proj.embedding)
    assert np.array_equal(real_b.get_offsets(), proj.embedding)
    assert not np.allclose(syn_a.get_offsets(), syn_b.get_offsets())
    assert figs[1].axes[0].get_title() == "real vs synthetic (identity features), stage 3"
