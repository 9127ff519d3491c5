"""“Show the code”: the same pruning written with ``torch.nn.utils.prune``.

The app keeps its own boolean masks (``pruning.core.masks``); a learner's project will more likely
use PyTorch's built-in module, which stores ``weight_orig`` and a ``weight_mask`` buffer and
recomputes ``weight = weight_orig * weight_mask`` before every forward pass. The translation:

* magnitude scores, target sparsity, ``global`` scope →
  ``prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=k)``
* magnitude scores, target sparsity, ``layer`` scope → ``prune.l1_unstructured(m, "weight", k)``
* magnitude scores, threshold t → ``prune.custom_from_mask(m, "weight", mask=|w| >= t)``
* any other scorer (random, Taylor, …) → ``prune.custom_from_mask`` with the masks from the
  exported checkpoint, because torch has no such scorer built in.

``amount`` is always written as a *count* k, never a fraction: torch rounds a fraction with
Python's ``round`` (half to even) while the app rounds half up (``selection.n_to_prune``), and
the count sidesteps the difference. Pruning again with torch prunes ``amount`` among the
weights still alive (its ``PruningContainer``), so round r uses k_r − k_(r−1), the app's
cumulative targets turned into per-round increments. Both pick the smallest |w| first; they
agree exactly unless two weights tie at the cut-off (the app then prunes the earlier position;
torch's ``topk`` makes no promise).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import torch
from torch import nn

from pruning.config import PruneConfig
from pruning.core.models import prunable_names
from pruning.core.selection import n_to_prune, select_by_sparsity, select_by_threshold
from pruning.loop.experiment import round_targets
from pruning.present.format import pct


@dataclass(frozen=True)
class Snippet:
    """Python source plus which torch function it uses and one sentence on why."""

    code: str
    method: str   # global_unstructured | l1_unstructured | threshold | custom_from_mask
    note: str


def _split(name: str) -> tuple[str, str]:
    module, _, param = name.rpartition(".")
    return module, param


def _params_block(names: list[str]) -> str:
    lines = [f'    (model.get_submodule("{m}"), "{p}"),' for m, p in map(_split, names)]
    return "parameters_to_prune = [\n" + "\n".join(lines) + "\n]\n"


_HEADER = (
    "import torch\n"
    "import torch.nn.utils.prune as prune\n\n"
    "# `model` is your trained network with the same layer names as the app's {arch}.\n"
)

_FOOTER = (
    "\n# Make it permanent: drop weight_orig / weight_mask, keep the zeros in the weights.\n"
    "for module, name in parameters_to_prune:\n"
    "    prune.remove(module, name)\n"
)


def _arch(model: nn.Module) -> str:
    """``MLP 64-300-100-10`` for an MLP, else the class name (``SmallCNN``)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears or any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return type(model).__name__
    sizes = [linears[0].in_features] + [m.out_features for m in linears]
    return "MLP " + "-".join(str(s) for s in sizes)


def _finetune_block(epochs: int, rewind: bool) -> str:
    text = ("\ndef fine_tune(model):\n"
            f'    """Your training loop ({epochs} epoch(s) in the app). While the masks are on,\n'
            '    the pruned weights stay at zero: their gradient reaches weight_orig, but the\n'
            '    forward pass multiplies by weight_mask."""\n')
    if rewind:
        text += ("    # Lottery-ticket rewinding (as in the app): before training, copy the\n"
                 "    # initial values into every weight_orig and other parameter.\n")
    return text


def _custom_code(model: nn.Module, names: list[str], checkpoint_name: str, why: str) -> Snippet:
    code = (_HEADER.format(arch=_arch(model)) + _params_block(names) +
            f"\n# {why}\n"
            f'masks = torch.load("{checkpoint_name}", weights_only=True)["masks"]\n'
            "for path, mask in masks.items():  # e.g. 'layers.0.weight' -> module 'layers.0'\n"
            '    module_name, _, name = path.rpartition(".")\n'
            "    prune.custom_from_mask(model.get_submodule(module_name), name, mask=mask)\n"
            + _FOOTER)
    return Snippet(code, "custom_from_mask", why)


def schedule_snippet(model: nn.Module, prune: PruneConfig,
                     checkpoint_name: str = "pruned_model.pt",
                     targets: list[float | None] | None = None) -> Snippet:
    """Code for the config's whole schedule (every round: prune, then fine-tune).

    ``targets`` overrides the config's per-round cumulative targets (e.g. ``[0.9]`` for one
    step); with a threshold the entries are ``None``.
    """
    names = prunable_names(model, prune.include_output, prune.include_bias)
    targets = round_targets(prune) if targets is None else list(targets)
    if prune.scorer != "magnitude":
        return _custom_code(model, names, checkpoint_name,
                            f"The '{prune.scorer}' scorer is not built into torch.nn.utils.prune, "
                            f"so its decisions are loaded from the app's exported checkpoint.")
    params = dict(model.named_parameters())
    head = _HEADER.format(arch=_arch(model)) + _params_block(names)
    head += _finetune_block(prune.finetune_epochs, prune.rewind)
    n_rounds = len(targets)
    if prune.threshold is not None:
        t = float(prune.threshold)
        body = (f"\n# {n_rounds} round(s): prune every weight with |w| < {t!r} (a weight equal to "
                f"the threshold stays).\nfor _ in range({n_rounds}):\n"
                "    for module, name in parameters_to_prune:\n"
                f"        mask = getattr(module, name).abs() >= {t!r}\n"
                "        prune.custom_from_mask(module, name, mask=mask)  # ANDed with earlier masks\n"
                "    fine_tune(model)\n")
        return Snippet(head + body + _FOOTER, "threshold",
                       "A threshold on |w| is a mask computed from the weights; "
                       "custom_from_mask applies it (and keeps earlier pruning).")
    targets_text = ", ".join(f"{pct(s)}" for s in targets)
    if prune.scope == "global":
        total = sum(params[n].numel() for n in names)
        ks = [n_to_prune(s, total) for s in targets]
        amounts = [max(0, k - prev) for k, prev in zip(ks, [0] + ks[:-1])]
        body = (f"\n# {n_rounds} round(s) to cumulative sparsity {targets_text} of all {total:,} "
                f"prunable weights.\n# Each amount is how many of the still-alive weights to "
                f"remove, ranked together across layers.\nfor amount in {amounts}:\n"
                "    prune.global_unstructured(parameters_to_prune,\n"
                "                              pruning_method=prune.L1Unstructured, amount=amount)\n"
                "    fine_tune(model)\n")
        return Snippet(head + body + _FOOTER, "global_unstructured",
                       "Global magnitude pruning: one ranking of |w| over all layers.")
    per_round = []
    prev = {n: 0 for n in names}
    for s in targets:
        row = []
        for n in names:
            k = n_to_prune(s, params[n].numel())
            row.append(max(0, k - prev[n]))
            prev[n] = max(prev[n], k)
        per_round.append(row)
    body = (f"\n# {n_rounds} round(s) to sparsity {targets_text} in every layer; one amount per layer "
            f"per round\n# (how many of that layer's still-alive weights to remove).\n"
            f"for amounts in {per_round}:\n"
            "    for (module, name), amount in zip(parameters_to_prune, amounts):\n"
            "        prune.l1_unstructured(module, name, amount=amount)\n"
            "    fine_tune(model)\n")
    return Snippet(head + body + _FOOTER, "l1_unstructured",
                   "Per-layer magnitude pruning: each layer loses the same fraction.")


def snippet_for_masks(dense_model: nn.Module, masks: Mapping[str, torch.Tensor],
                      prune: PruneConfig, checkpoint_name: str = "pruned_model.pt") -> Snippet:
    """Code that turns ``dense_model`` into exactly ``masks``.

    When the masks are one magnitude step from the dense weights (what the Prune page does),
    this is the one-shot torch call; when they are not (several rounds with fine-tuning in
    between, another scorer, ties), the masks are loaded from the checkpoint instead.
    """
    names = list(masks)
    if prune.scorer == "magnitude" and names == prunable_names(
            dense_model, prune.include_output, prune.include_bias):
        params = dict(dense_model.named_parameters())
        scores = {n: params[n].detach().abs() for n in names}
        if prune.threshold is not None:
            one = replace(prune, schedule="oneshot", rounds=1)
            if _same(select_by_threshold(scores, prune.threshold).masks, masks):
                return schedule_snippet(dense_model, one, checkpoint_name, [None])
        else:
            if prune.scope == "global":
                pruned = sum(int((~m).sum()) for m in masks.values())
                target = pruned / sum(m.numel() for m in masks.values())
            else:
                target = prune.sparsity
            one = replace(prune, schedule="oneshot", rounds=1, sparsity=target)
            sel = select_by_sparsity(scores, target, prune.scope)
            if _same(sel.masks, masks) and _no_ties(scores, masks, prune.scope):
                return schedule_snippet(dense_model, one, checkpoint_name, [target])
    return _custom_code(dense_model, names, checkpoint_name,
                        "These masks are not one magnitude step from the dense weights (several "
                        "rounds with fine-tuning, another scorer, or ties), so they are loaded "
                        "from the app's exported checkpoint.")


def _same(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _no_ties(scores: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor],
             scope: str) -> bool:
    """True when every pruned score is strictly below every kept one (per layer for the
    ``layer`` scope): then any correct implementation must pick the same weights."""
    groups = [list(masks)] if scope == "global" else [[n] for n in masks]
    for group in groups:
        s = torch.cat([scores[n].flatten() for n in group])
        m = torch.cat([masks[n].flatten() for n in group])
        if (~m).any() and m.any() and not float(s[~m].max()) < float(s[m].min()):
            return False
    return True


def structured_snippet(model: nn.Module, fraction: float, finetune_epochs: int) -> Snippet:
    """Code for the structured recipe of the trade-off curve with ``torch.nn.utils.prune``:
    in every hidden layer remove ``fraction`` of the units with the smallest L1 norm of their
    incoming weights (``ln_structured(n=1, dim=0)``: the same ranking as the app's ``l1``
    unit score), their biases and the next layer's matching inputs, then fine-tune.

    Where it differs from the app: torch breaks ties at the cut-off its own way, and torch has
    no compaction — the app then builds the smaller dense model
    (``pruning.structured.compact``); the snippet says so."""
    from pruning.structured.units import unit_layers

    plan = []
    for layer in unit_layers(model):
        k = n_to_prune(fraction, layer.size)
        k = min(k, layer.size - 1)          # the app keeps at least one unit per layer
        plan.append((layer.module, layer.next_module, k))
    lines = ",\n".join(f'    ("{m}", "{n}", {k})' for m, n, k in plan)
    code = (_HEADER.format(arch=_arch(model)) +
            "\n# (hidden layer, the layer it feeds, how many of its units to remove)\n"
            f"plan = [\n{lines},\n]\n"
            "# 1. In every hidden layer, the k units (rows / filters) with the smallest L1 norm of\n"
            "#    their incoming weights (ranked on the trained weights, before any other mask).\n"
            "for name, _, k in plan:\n"
            "    prune.ln_structured(model.get_submodule(name), \"weight\", amount=k, n=1, dim=0)\n"
            "# 2. A removed unit also loses its bias and the next layer's matching inputs.\n"
            "for name, next_name, _ in plan:\n"
            "    layer, nxt = model.get_submodule(name), model.get_submodule(next_name)\n"
            "    kept = layer.weight_mask.flatten(1).any(dim=1)            # (units,) True = kept\n"
            "    prune.custom_from_mask(layer, \"bias\", mask=kept)\n"
            "    inputs = kept.repeat_interleave(nxt.weight.shape[1] // kept.numel())  # CNN head: one per region\n"
            "    shape = (1, -1) + (1,) * (nxt.weight.dim() - 2)            # the next layer's inputs\n"
            "    prune.custom_from_mask(nxt, \"weight\", mask=inputs.view(shape).expand_as(nxt.weight))\n"
            f"\nfine_tune(model)  # your training loop, {finetune_epochs} epoch(s) in the app; "
            "the masks hold the removed units at zero\n"
            "\nparameters_to_prune = list(dict.fromkeys(\n"
            "    (model.get_submodule(m), p) for name, next_name, _ in plan\n"
            "    for m, p in ((name, \"weight\"), (name, \"bias\"), (next_name, \"weight\"))))\n"
            + _FOOTER +
            "# torch stops here: the zeros are still stored. To get the smaller, faster model,\n"
            "# build one without the removed rows / columns (the app's compaction does this).\n")
    return Snippet(code, "ln_structured",
                   "Structured L1 pruning: whole units go, with their biases and the next layer's "
                   "inputs; the app then compacts to a smaller dense model, which torch does "
                   "not do for you.")
