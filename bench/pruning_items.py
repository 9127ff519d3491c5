"""Pruning speed: global magnitude masks vs ``torch.nn.utils.prune``, and a 10-round
iterative prune + fine-tune run."""
from __future__ import annotations

import copy

from torch.nn.utils import prune as torch_prune

from pruning.config import PruneConfig, TrainConfig
from pruning.core.masks import apply_masks
from pruning.core.models import prunable_names
from pruning.loop.experiment import prune_step, run_prune_rounds

from .fixtures import default_data, default_trained
from .harness import Clock, Result, Stats, Target

CALLS_PER_REPEAT = 100


def _ours(model, cfg: PruneConfig):
    """What the prune loop does for one step: score, select, zero the pruned weights."""
    sel, _ = prune_step(model, None, cfg, cfg.sparsity)
    apply_masks(model, sel.masks)
    return sel


def _torch(model, names: list[str], amount: float):
    modules = dict(model.named_modules())
    params = [(modules[n.rsplit(".", 1)[0]], "weight") for n in names]
    torch_prune.global_unstructured(params, pruning_method=torch_prune.L1Unstructured,
                                    amount=amount)


def global_masks(repeats: int, sparsity: float = 0.9) -> Result:
    """Ours (``loop.prune_step`` + ``apply_masks``) vs ``global_unstructured`` with
    ``L1Unstructured`` on copies of the same trained default model. Both compute the masks
    and write the zeros into the model; the deep copies are made before the timer starts.
    Masks are compared element by element once (after the timing)."""
    data = default_data()
    trained = default_trained()
    base = trained.build(data)
    names = prunable_names(base)
    cfg = PruneConfig(scorer="magnitude", scope="global", sparsity=sparsity, schedule="oneshot")
    _ours(copy.deepcopy(base), cfg), _torch(copy.deepcopy(base), names, sparsity)  # warm-up
    ratios, ours_t, torch_t = [], [], []
    for _ in range(repeats):
        mine = [copy.deepcopy(base) for _ in range(CALLS_PER_REPEAT)]
        theirs = [copy.deepcopy(base) for _ in range(CALLS_PER_REPEAT)]
        with Clock() as co:
            for m in mine:
                _ours(m, cfg)
        with Clock() as ct:
            for m in theirs:
                _torch(m, names, sparsity)
        ours_t.append(co.wall / CALLS_PER_REPEAT)
        torch_t.append(ct.wall / CALLS_PER_REPEAT)
        ratios.append(co.wall / ct.wall)
    # Identity check on fresh copies.
    ref = copy.deepcopy(base)
    sel = _ours(ref, cfg)
    other = copy.deepcopy(base)
    _torch(other, names, sparsity)
    modules = dict(other.named_modules())
    differing = sum(int((sel.masks[n] != modules[n.rsplit(".", 1)[0]].weight_mask.bool()).sum())
                    for n in names)
    res = Result("masks", "global magnitude masks at 90 % vs torch.nn.utils.prune",
                 Target("<=", 1.0, "×"), Stats.of(ratios), headline_unit="×")
    res.detail("ours: prune_step + apply_masks, per call", Stats.of(ours_t), 1e3, "ms", 3)
    res.detail("torch global_unstructured(L1Unstructured), per call", Stats.of(torch_t), 1e3, "ms", 3)
    res.detail("weights pruned (ours / torch)",
               f"{sel.n_pruned:,} / {sum(int((~modules[n.rsplit('.', 1)[0]].weight_mask.bool()).sum()) for n in names):,}"
               f" of {sel.n_pruned + sel.n_kept:,}")
    res.detail("scores tied at the cut-off", f"{sel.n_tied} (1 = no ties)")
    res.detail("mask entries that differ", f"{differing}")
    if sel.n_tied <= 1 and differing:
        res.notes.append(f"MASKS DIFFER although there are no ties: {differing} entries")
    res.notes.append(f"{CALLS_PER_REPEAT} calls per repeat on deep copies of the trained default "
                     f"model; weights of all {len(names)} Linear layers, biases not pruned.")
    return res


def iterative_10(repeats: int) -> Result:
    """A 10-round iterative magnitude run to 90 % with the default fine-tuning (5 epochs per
    round, batch 32), from a copy of the trained default model — what the Iterate page does
    (``iteration.run_iterate`` without the random baseline calls exactly this)."""
    data = default_data()
    trained = default_trained()
    prune = PruneConfig(schedule="iterative", rounds=10)
    finetune = TrainConfig()
    walls, cpus, accs = [], [], []
    for _ in range(repeats):
        model = trained.build(data)
        with Clock() as c:
            rounds, _, _, _ = run_prune_rounds(model, data, prune, finetune,
                                               initial_state=trained.init_state)
        walls.append(c.wall)
        cpus.append(c.cpu)
        accs.append(float(rounds["test_acc"].iloc[-1]))
    res = Result("iterate10", "10-round iterative prune + fine-tune on digits",
                 Target("<=", 10.0, " s"), Stats.of(walls), headline_unit="s")
    res.detail("thread CPU", Stats.of(cpus), 1, "s")
    res.detail("final sparsity / test accuracy",
               f"{rounds['sparsity'].iloc[-1]:.1%} / {accs[-1]:.2%} (same every repeat: "
               f"{len(set(accs)) == 1})")
    res.notes.append(f"{prune.rounds} rounds × {prune.finetune_epochs} fine-tune epochs at batch "
                     f"{prune.finetune_batch_size}, evaluation of all splits after every epoch "
                     f"and after every pruning step; dense training not included (the session "
                     f"already has its trained model).")
    return res
