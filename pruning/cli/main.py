"""Command line: ``python -m pruning run ...`` runs a whole experiment headless.

Example (the README's measured run)::

    python -m pruning run --dataset digits --model mlp --hidden 300,100 --scorer magnitude \\
        --scope global --sparsity 0.9 --schedule iterative --rounds 5 --seed 0 --json out.json

Prints the dense metrics and a per-round table; ``--json`` / ``--csv`` write them to files.
Bad arguments print one line ``error: ...`` and exit with status 2 (no traceback).
"""
from __future__ import annotations

import argparse
import sys

from pruning.cli.output import write_json
from pruning.config import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    PruneConfig,
    TrainConfig,
    parse_hidden,
)
from pruning.core.data import DATASETS
from pruning.core.schedules import SCHEDULES
from pruning.core.selection import SCOPES
from pruning.errors import PruningError
from pruning.present.format import pct
from pruning.scoring import SCORERS


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump: friendlier in scripts and CI logs
        self.exit(2, f"error: {message}\n")


def _sizes(what: str, example: str):
    """An argparse type for comma-separated sizes, read by ``pruning.config.parse_hidden``."""
    def parse(text: str) -> tuple[int, ...]:
        try:
            return parse_hidden(text, what, example)
        except PruningError as exc:
            raise argparse.ArgumentTypeError(f"{exc}; got {text!r}") from None
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m pruning", description="Pruning Playground, headless.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="train, prune and fine-tune; print and save the results")
    r.add_argument("--dataset", default="digits", choices=sorted(DATASETS))
    r.add_argument("--model", default="mlp", choices=["mlp", "cnn"])
    r.add_argument("--hidden", type=_sizes("hidden sizes", "300,100"), default=(300, 100), help="MLP hidden sizes, e.g. 300,100")
    r.add_argument("--channels", type=_sizes("channels", "8,16"), default=(8, 16), help="CNN channels, e.g. 8,16")
    r.add_argument("--epochs", type=int, default=30)
    r.add_argument("--batch-size", type=int, default=64)
    r.add_argument("--lr", type=float, default=1e-3)
    r.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    r.add_argument("--weight-decay", type=float, default=0.0)
    r.add_argument("--train-size", type=int, default=None, help="keep only N training examples")
    r.add_argument("--label-noise", type=float, default=0.0, help="fraction of wrong training labels")
    r.add_argument("--scorer", default="magnitude", choices=sorted(SCORERS))
    r.add_argument("--scope", default="global", choices=list(SCOPES))
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--sparsity", type=float, help="final fraction of weights to prune, 0..1")
    g.add_argument("--threshold", type=float, help="prune weights whose score is below this")
    r.add_argument("--schedule", default="iterative", choices=list(SCHEDULES))
    r.add_argument("--rounds", type=int, default=5)
    r.add_argument("--finetune-epochs", type=int, default=5)
    r.add_argument("--rewind", action="store_true", help="lottery-ticket rewinding to initial weights")
    r.add_argument("--no-output-layer", action="store_true", help="never prune the output layer")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--json", metavar="PATH", help="write config, dense metrics and rounds as JSON")
    r.add_argument("--csv", metavar="PATH", help="write the per-round table as CSV")
    r.add_argument("--quiet", action="store_true")
    from pruning.cli.sweep import add_sweep_parser

    add_sweep_parser(sub)
    return p


def config_from_args(a: argparse.Namespace) -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(name=a.dataset, train_size=a.train_size, label_noise=a.label_noise,
                        seed=a.seed),
        model=ModelConfig(kind=a.model, hidden=a.hidden, channels=a.channels),
        train=TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr,
                          optimizer=a.optimizer, weight_decay=a.weight_decay, seed=a.seed),
        prune=PruneConfig(scorer=a.scorer, scope=a.scope, sparsity=a.sparsity,
                          threshold=a.threshold, schedule=a.schedule, rounds=a.rounds,
                          finetune_epochs=a.finetune_epochs, rewind=a.rewind,
                          include_output=not a.no_output_layer, seed=a.seed),
    )


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sweep":
        from pruning.cli.sweep import run_sweep_command

        return run_sweep_command(args)
    try:
        cfg = config_from_args(args)
        from pruning.loop.experiment import run_experiment

        def progress(stage, frac, msg):
            if not args.quiet:
                print(f"\r[{frac * 100:5.1f} %] {msg:<50}", end="", file=sys.stderr, flush=True)

        if cfg.prune.rewind and cfg.prune.finetune_epochs < cfg.train.epochs:
            print(f"warning: --rewind resets the survivors to their initial weights, and each "
                  f"round retrains only {cfg.prune.finetune_epochs} epoch(s) against "
                  f"{cfg.train.epochs} for the dense model; Frankle & Carbin retrain the full "
                  f"budget (--finetune-epochs {cfg.train.epochs})", file=sys.stderr)
        result = run_experiment(cfg, progress=progress)
        if not args.quiet:
            print(file=sys.stderr)
    except PruningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    d = result.dense
    print(f"dense: train {pct(d['train_acc'], 2)}  test {pct(d['test_acc'], 2)}  "
          f"({d['total_params']:,} parameters)")
    cols = ["round", "target_sparsity", "sparsity", "train_acc_pruned", "test_acc_pruned",
            "train_acc", "test_acc", "nonzero_params"]
    print(result.rounds[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.json:
        write_json(args.json, result.to_json_dict())
    if args.csv:
        result.rounds.to_csv(args.csv, index=False)
    return 0
