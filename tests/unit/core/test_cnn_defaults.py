"""Defaults that learn: the Small CNN, trained on digits with the app's default settings
(the sidebar's 30 epochs, Adam at lr 1e-3, batch 64, seed 0), must reach 95 % test accuracy.

Before the head read a 4×4 grid of regions (and the convs had He initialisation) this run
ended at about 54 % with the loss still falling, so students pruned a model that had not learned.
"""
from pruning.config import DataConfig, ModelConfig, TrainConfig
from pruning.core.data import load_dataset
from pruning.core.models import build_model
from pruning.core.training import evaluate_all, train


def test_the_small_cnn_learns_digits_with_its_default_settings():
    data = load_dataset(DataConfig())
    cfg = ModelConfig(kind="cnn")
    assert cfg.channels == (8, 16) and DataConfig().name == "digits"
    model = build_model(cfg, data.X_train.shape[1], data.n_classes, data.image_shape, seed=0)
    train(model, data, TrainConfig(seed=0))
    metrics = evaluate_all(model, data)
    assert metrics["test_acc"] >= 0.95, metrics
