"""Lottery tickets: iterative magnitude pruning with rewinding, against two controls."""
import streamlit as st

from pruning.app.job_costs import lottery_estimate
from pruning.app.jobs import UNKNOWN
from pruning.labs.lottery import LotteryConfig, run_lottery
from pruning.present.columns import readable_csv
from pruning.present.lottery import (
    VARIANT_LABELS,
    budget_caption,
    epochs_note,
    lottery_figure,
    lottery_notes,
    published_numbers_note,
)
from ui.cache import get_data
from ui.charts import show_chart
from ui.next_step import next_step_link
from ui.page_stop import stop_page
from ui.scaffold import run_and_keep, sidebar_configs
from ui.tables import show_table
from ui.widgets import NOTICE, remembered

RESULT_KEY = "lottery"

st.title("🎟️ Lottery tickets")
st.markdown(
    "Frankle & Carbin (2019): train a network, prune the smallest weights, **reset the "
    "survivors to their initial values**, train again — and repeat. The sparse network that "
    "comes out (the *winning ticket*) often trains as well as the dense one. Is it the mask or "
    "the initial values? Two controls answer: the **same mask with new random initial "
    "weights**, and **random pruning** with the same number of weights per layer.")
st.caption("This page trains its own networks from scratch with the sidebar's data set, model "
           "and seed; it does not need (or change) your trained model.")

data_cfg, model_cfg, train_cfg = sidebar_configs()

c1, c2, c3, c4 = st.columns(4)
rounds = c1.slider("Rounds", 1, 8, step=1, help="Prune-and-retrain rounds after the dense run.",
                   **remembered("lt_rounds", 4))
rate = c2.slider("Pruned per round (% of survivors)", 10, 80, step=5, format="%d %%",
                 help="Frankle & Carbin prune 20 % per round over many rounds; 50 % reaches high "
                      "sparsity in a few.", **remembered("lt_rate", 50)) / 100
epochs = c3.number_input("Epochs per training run", min_value=1, max_value=100, step=1,
                         help="The dense run and the re-initialised control train this many "
                              "epochs; with a rewind to epoch k the ticket and the random "
                              "control train this many minus k (they restart after epoch k).",
                         **remembered("lt_epochs", 8))
rewind = c4.number_input("Rewind to epoch", min_value=0, max_value=99, step=1,
                         help="0: back to the initial weights (the original tickets). k > 0: "
                              "back to the weights after k epochs of the dense run (\"late "
                              "rewinding\", which helps deeper networks).",
                         **remembered("lt_rewind", 0))
st.caption(budget_caption(rounds, rate, epochs, int(rewind)))

cfg = LotteryConfig(rounds=int(rounds), prune_rate=rate, epochs=int(epochs),
                    rewind_epoch=int(rewind), seed=train_cfg.seed)


def find_tickets(progress):
    return run_lottery(get_data(data_cfg), model_cfg, train_cfg, cfg, progress=progress).table


clicked = st.button("Find tickets", type="primary", key="lt_run",
                    help="Trains the dense network, then the ticket and both controls each round.")
estimate = UNKNOWN
if clicked:
    estimate = lottery_estimate(model_cfg, get_data(data_cfg), train_cfg, int(rounds), int(epochs))
kept = run_and_keep(RESULT_KEY, (data_cfg, model_cfg, train_cfg.seed, cfg), find_tickets,
                    run=clicked, progress=True, estimate=estimate,
                    name="Finding lottery tickets")
if kept is None:
    st.caption("Press **Find tickets**. With the defaults on digits this takes well under a minute.")
    next_step_link()
    stop_page()
if kept.stale:
    st.info("Showing the last run; the settings have changed since. Press **Find tickets** to update.")
shown_data, table = kept.settings[0], kept.value

show_chart(lottery_figure(table), key="lt_chart")
for note in lottery_notes(table):
    st.markdown(NOTICE + note)
st.caption(epochs_note(table))
st.caption(published_numbers_note(shown_data.name, table,
                                  len(get_data(shown_data).y_train)))
shown = table.assign(variant=table["variant"].map(VARIANT_LABELS))
show_table(shown)
st.download_button("Download the runs (CSV)", readable_csv(table), file_name="lottery.csv",
                   mime="text/csv", key="lt_dl")
