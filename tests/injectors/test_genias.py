"""GenIASInjector: patching (Alg. 2), the psi > 1 parameterisation, training (Eq. 6)."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skanomaly.injectors import GenIASInjector

TINY = dict(hidden_channels=(8,), latent_dim=4, batch_size=32, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def sine_windows():
    """Three-channel windows of a noisy multi-sine series, in time order."""
    rng = np.random.default_rng(0)
    t = np.arange(900)
    series = np.stack([np.sin(t / 6), np.cos(t / 11), np.sin(t / 4) * 0.5], axis=1)
    series += 0.05 * rng.normal(size=series.shape)
    windows = np.lib.stride_tricks.sliding_window_view(series, (24, 3))[::8, 0]
    return np.ascontiguousarray(windows, dtype=np.float32)


@pytest.fixture(scope="module")
def fitted(sine_windows):
    return GenIASInjector(epochs=8, **TINY).fit(sine_windows)


@pytest.mark.parametrize("tau", [0.0, 0.05, 1e6])
def test_generated_windows_differ_only_in_patched_channels(fitted, sine_windows, tau):
    injector = fitted.set_params(tau=tau)
    generated = injector._generate_checked(sine_windows, 40, np.random.default_rng(1))
    sources = sine_windows[generated.source_indices]
    changed = ~np.all(generated.X == sources, axis=1)  # (n, channels): channel replaced?
    # Every anomaly changes at least one channel, and a channel is either kept exactly or
    # replaced by the decoded trajectory (never partly).
    assert changed.any(axis=1).all()
    _, mask = injector._anomalies_of(sources, np.random.default_rng(7))
    assert mask.shape == changed.shape
    if tau == 1e6:  # nothing passes the test: exactly the most deviating channel is patched
        np.testing.assert_array_equal(changed.sum(axis=1), 1)
    if tau == 0.0:  # every channel that deviates at all is patched
        assert changed.mean() > 0.9
    injector.set_params(tau=0.05)


def test_patch_mask_matches_replaced_channels(fitted, sine_windows):
    rng = np.random.default_rng(3)
    patched, mask = fitted._anomalies_of(sine_windows[:30], rng)
    decoded = fitted._decode_perturbed(sine_windows[:30], np.random.default_rng(3))
    reconstructed = fitted._reconstruct(sine_windows[:30])
    kept = np.all(patched == sine_windows[:30], axis=1)
    # A replaced channel is the window plus the perturbation X~ - X^ (not X~ itself, which is
    # smoother than any real window).
    expected = sine_windows[:30] + (decoded - reconstructed)
    replaced = np.all(np.isclose(patched, expected, atol=1e-5), axis=1)
    np.testing.assert_array_equal(kept, ~mask)
    np.testing.assert_array_equal(replaced, mask)


def test_deviation_is_measured_against_the_reconstruction(fitted, sine_windows):
    """Issue 18: compared with X, the reconstruction error alone passed tau and every channel
    was replaced. With tau at the reconstruction error, not all channels may pass."""
    windows = sine_windows[:60]
    recon_error = ((windows - fitted._reconstruct(windows)) ** 2).mean(axis=1)
    amplitude = windows.max(axis=1) - windows.min(axis=1)
    tau = float(np.median(recon_error / amplitude))
    _, mask = fitted.set_params(tau=tau)._anomalies_of(windows, np.random.default_rng(0))
    fitted.set_params(tau=0.05)
    perturbation = fitted._decode_perturbed(windows, np.random.default_rng(0)) - (
        fitted._reconstruct(windows))
    deviation = (perturbation**2).mean(axis=1)
    np.testing.assert_array_equal(mask | (deviation <= tau * amplitude), True)
    assert mask.mean() < 1.0


def test_generator_does_not_collapse_and_collapse_is_reported(sine_windows, monkeypatch):
    """Issue 18: the KL term averaged per latent dimension dominated the per-element
    reconstruction term and the spread of mu across windows fell to ~0.03."""
    many = np.concatenate([sine_windows] * 4, axis=2)  # 12 channels
    injector = GenIASInjector(epochs=10, lr=3e-3, **TINY).fit(many)
    assert injector.latent_spread_ > 0.1 * injector.sigma_prior
    with pytest.warns(ConvergenceWarning, match="collapsed"):
        # A collapsed generator (mu constant across windows) is reported.
        monkeypatch.setattr(GenIASInjector, "_latent_spread", lambda self, w: 0.0)
        GenIASInjector(epochs=1, **TINY).fit(many)


def test_verbose_names_the_generator_stage(sine_windows, capsys):
    GenIASInjector(epochs=1, verbose=1, **TINY).fit(sine_windows)
    err = capsys.readouterr().err
    assert "GenIASInjector [generator]" in err and "_GenIAS" not in err


def test_psi_stays_above_one(sine_windows):
    # beta large and both margins 0: the perturbation loss pushes the deviation (hence psi)
    # down as far as it can; the parameterisation keeps psi > 1.
    injector = GenIASInjector(
        epochs=5, lr=0.05, beta=100.0, delta_min=0.0, delta_max=0.0, psi_init=1.05, **TINY
    ).fit(sine_windows)
    assert injector.psi_.shape == (4,)
    assert np.all(injector.psi_ > 1.0)
    assert np.all(injector.psi_ < 1.05)  # it did move down
    module = injector.generator_.module_
    with torch.no_grad():
        module.rho.fill_(-50.0)
        assert torch.all(module.psi >= 1.0)


def test_losses_decrease_on_synthetic_series(sine_windows):
    injector = GenIASInjector(epochs=25, lr=5e-3, **{**TINY, "batch_size": 16}).fit(sine_windows)
    curve = injector.generator_.loss_curve_
    assert len(curve) == 25
    assert curve[-1] < 0.6 * curve[0]
    generator = injector.generator_
    X = torch.from_numpy(sine_windows)
    fresh = GenIASInjector(epochs=1, **TINY).fit(sine_windows).generator_
    with torch.no_grad():
        trained_recon = generator._losses(X)[0].item()
        fresh_recon = fresh._losses(X)[0].item()
    assert trained_recon < fresh_recon


def test_zero_channel_loss_and_auto_parameters(sine_windows):
    X = sine_windows.copy()
    X[:, :, 2] = 0.0  # an inactive channel
    injector = GenIASInjector(epochs=1, **{**TINY, "latent_dim": "auto"}).fit(X)
    assert injector.latent_dim_ == 100 and injector.gamma_ == 0.01
    with torch.no_grad():
        _, _, zero_perturb, _ = injector.generator_._losses(torch.from_numpy(X))
    assert 0.0 < zero_perturb.item() <= 1.0
    uni = GenIASInjector(epochs=1, **{**TINY, "latent_dim": "auto"}).fit(X[:, :, :1])
    assert uni.latent_dim_ == 50 and uni.gamma_ == 0.0


def test_fit_resample_labels_whole_windows(sine_windows):
    injector = GenIASInjector(epochs=1, anomaly_ratio=0.1, **TINY)
    X_res, y_res = injector.fit_resample(sine_windows)
    n = len(sine_windows)
    assert X_res.shape[1:] == sine_windows.shape[1:]
    assert injector.point_labels_.shape == (len(X_res), 24)
    assert injector.point_labels_[:n].sum() == 0
    assert injector.point_labels_[n:].all() and y_res[n:].all()


def test_two_dimensional_input_is_one_channel_windows():
    rng = np.random.default_rng(0)
    X = np.sin(np.arange(20)[None, :] / 3 + rng.uniform(0, 6, (30, 1)))
    injector = GenIASInjector(epochs=1, **TINY).fit(X)
    assert injector.input_shape_ == (20,)
    assert injector.generator_.input_shape_ == (20, 1)
    assert injector.generate(X, 6).shape == (6, 20)


def test_invalid_margins_raise(sine_windows):
    with pytest.raises(ValueError, match="delta_max"):
        GenIASInjector(delta_min=0.5, delta_max=0.1, epochs=1, **TINY).fit(sine_windows)
    with pytest.raises(ValueError, match="psi_init"):
        GenIASInjector(psi_init=1.0, **TINY).fit(sine_windows)
