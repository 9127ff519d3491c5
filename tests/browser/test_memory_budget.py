"""Memory has an owner: the issue's three scenarios at the largest settings a link allows
(MLP 6 × 4096 on digits: 87 M parameters, 0.7 GB for a model record's initial + trained
weights), with the server's resident memory read from /proc after each step.

1. Three "Use a trained default model" clicks (seeds 1, 2, 3, three students one after the
   other). Before, the shared cache kept every one (3.6 → 6.4 → 8.9 GB, never released); now
   a model over the shared-cache size limit is the session's own and goes with it.
2. Three reloads of a page holding such a model. Before, each reload left the closed
   session's model behind (3.6 → 9.5 GB); now a reload of the same browser shares the live
   copy.
3. Three students building such a model at the same moment.

Epochs are 0 (the model is built and evaluated, as in the concurrency test): the memory a
finished model holds is the same as after training, and 6 × 4096 trains for minutes here.
The per-job memory limit is the server's default (half the budget over the jobs that may
run at once: 2.9 GB on the 24 GB, 2-core machine), which admits this 2.1 GB job. Every scenario stays within the budget (the default: half the machine's memory), and the
growth each scenario is about is bounded by model records, not by clicks.
"""
from __future__ import annotations

import time

from pruning.app.memory import memory_budget_bytes, mlp_parameter_count
from tests.browser import kit

HIDDEN = ",".join(["4096"] * 6)
RECORD = 2 * 4 * mlp_parameter_count(64, (4096,) * 6, 10)   # digits: 64 inputs, 10 classes
GB = 2**30
SESSION_TTL_S = 5


def link(seed: int) -> str:
    return f"dataset=digits&model=mlp&hidden={HIDDEN}&seed={seed}"


def set_epochs(page, epochs: int) -> None:
    page.locator("[data-testid='stSidebar'] [data-testid='stExpander']") \
        .filter(has_text="Training data knobs").locator("summary").click()
    box = page.get_by_label("Training epochs", exact=True)
    kit.act(page, lambda: (box.fill(str(epochs)), box.press("Enter")))


def use_default(page, base_url: str, seed: int) -> None:
    kit.open_app(page, base_url, "iterate", link(seed))
    set_epochs(page, 0)
    kit.click(page, page.get_by_role("button", name="Use a trained default model"),
              timeout=600)
    kit.wait_until(page, lambda: page.get_by_role(
        "button", name="Use a trained default model").count() == 0, timeout=600,
        what="the default model in the session")
    kit.assert_no_exception(page, f"Iterate, seed {seed}")


def gb(kib: int) -> float:
    return kib * 1024 / GB


def test_three_scenarios_stay_within_the_memory_budget(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNING_STORE_PATH", str(tmp_path / "workspaces.sqlite3"))
    budget = memory_budget_bytes()
    # Closed sessions expire after 5 s here instead of the shipped 20 s (.streamlit/config.toml):
    # the same release, 20 s less waiting.
    server = kit.start_server("memory-budget", extra_args=("--server.disconnectedSessionTTL",
                                                           str(SESSION_TTL_S)))
    rss = {"start": server.rss_kib()}
    contexts = []
    try:
        # 1. three default-model clicks, seeds 1-3, by three students one after the other
        #    (the first two close their tab; Streamlit keeps a closed session for
        #    server.disconnectedSessionTTL, then its models go)
        for seed in (1, 2, 3):
            context, page = kit.new_session(browser)
            contexts.append(context)
            use_default(page, server.url, seed)
            rss[f"click{seed}"] = server.rss_kib()
            if seed < 3:
                context.close()
                closed_at = time.monotonic()
        # (Streamlit drops expired sessions at the next connection: the first reload below.)
        # The last tab closed before seed 3's click, which takes longer than the TTL on most
        # runs: wait only for what is left of the TTL (and 3 s more) since that close.
        left = closed_at + SESSION_TTL_S + 3 - time.monotonic()
        if left > 0:
            page.wait_for_timeout(left * 1000)
        # 2. three reloads of the page holding the model
        for i in (1, 2, 3):
            kit.goto(page, page.url, timeout=600)
            assert page.get_by_role("button", name="Use a trained default model").count() == 0
            rss[f"reload{i}"] = server.rss_kib()
        released = min(rss[f"reload{n}"] for n in (1, 2, 3))
        deadline = time.monotonic() + 60     # "promptly": within a minute of the reloads
        while (released - rss["click1"]) * 1024 >= RECORD / 2 and time.monotonic() < deadline:
            page.wait_for_timeout(5_000)
            kit.goto(page, page.url, timeout=600)     # a connection lets Streamlit expire them
            released = min(released, server.rss_kib())
        rss["released"] = released
        # 3. three students building the model at once
        pages = []
        for seed in (4, 5, 6):
            ctx, p = kit.new_session(browser)
            contexts.append(ctx)
            kit.open_app(p, server.url, "iterate", link(seed))
            set_epochs(p, 0)
            pages.append(p)
        marks = [kit.run_state(p)["completed"] for p in pages]
        for p in pages:
            p.get_by_role("button", name="Use a trained default model").click()
        for p, since in zip(pages, marks):
            kit.wait_for_app(p, since=since, timeout=900)
        rss["together"] = server.rss_kib()
        peak = server.peak_rss_kib()
        kit.dump_json("memory-budget.json", {k: round(gb(v), 2) for k, v in rss.items()}
                      | {"peak": round(gb(peak), 2), "budget": round(budget / GB, 2),
                         "record_gb": round(RECORD / GB, 2)})
        print({k: round(gb(v), 2) for k, v in rss.items()}, "peak", round(gb(peak), 2))
        assert peak * 1024 < budget, f"peak {gb(peak):.1f} GB over the budget {budget / GB:.1f} GB"
        # the shared cache no longer pins one model per seed, and the closed sessions'
        # models go (before: both closed sessions' records stayed, >= 2 x RECORD = 1.26 GB,
        # never released; later one of them was seen resident a minute after it expired,
        # waiting for Python's full garbage collection: now the server's guard collects
        # right after Streamlit drops an expired session, pruning.app.memory). Streamlit
        # drops an expired session at a later connection, so the lowest reading after the
        # reloads (more reloads for up to a minute while it is still high) is compared.
        assert (rss["released"] - rss["click1"]) * 1024 < RECORD / 2, rss
        # reloads share the live workspace: no model record per reload
        assert (rss["reload3"] - rss["reload1"]) * 1024 < RECORD / 2, rss
    finally:
        for ctx in contexts:
            ctx.close()
        server.stop()
