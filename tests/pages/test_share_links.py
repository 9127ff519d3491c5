"""The copy-link buttons and the new link settings, through the real app (AppTest)."""
from urllib.parse import parse_qs, urlsplit

from tests.pages.kit import (
    FINETUNE,
    ITERATE,
    LOTTERY,
    PRUNE,
    THRESHOLD,
    click,
    goto,
    new_app,
)

QUERY = {"epochs": "7", "train_size": "200", "label_noise": "0.1", "ft_lr": "0.01",
         "ft_epochs": "4", "it_epochs": "6", "it_oneshot": "0", "sc_seeds": "2",
         "classroom": "1"}


def _shown_link(at) -> dict:
    (code,) = [c.value for c in at.sidebar.code]
    return {k: v[-1] for k, v in parse_qs(urlsplit(code).query).items()}


def test_a_link_sets_the_widgets_and_the_copy_buttons_hand_it_on():
    at = new_app(QUERY, epochs=None)
    s = at.session_state
    assert (s["set_epochs"], s["set_train_size"], s["set_label_noise"]) == (7, 200, 0.1)
    goto(at, FINETUNE)
    assert (at.session_state["ft_lr"], at.session_state["ft_epochs"]) == (0.01, 4)
    goto(at, ITERATE)
    assert at.session_state["it_epochs"] == 6 and at.session_state["it_oneshot"] is False

    click(at, "share_students")
    students = _shown_link(at)
    assert "classroom" not in students
    assert {k: students.get(k) for k in QUERY if k != "classroom"} == \
        {k: v for k, v in QUERY.items() if k != "classroom"}
    click(at, "share_projector")
    projector = _shown_link(at)
    assert projector.pop("classroom") == "1" and projector == students

    # a widget the user moves changes the link (the training knobs show outside classroom mode)
    at.toggle(key="set_classroom").set_value(False).run()
    at.number_input(key="set_epochs").set_value(9).run()
    assert at.query_params["epochs"] in ("9", ["9"])
    assert "classroom" not in at.query_params


def test_a_links_training_knobs_act_on_the_default_model_without_a_visit_to_train():
    """A student opens the teacher's link on Prune and presses "Use a trained default model":
    the model is trained with the link's learning rate, optimizer, batch size and weight
    decay (they used to act only when Train was pressed on the Train page)."""
    at = new_app({"dataset": "moons", "epochs": "2", "lr": "0.05", "optimizer": "sgd",
                  "batch_size": "32", "weight_decay": "0.001", "hidden": "8,8"},
                 page=PRUNE, epochs=None)
    click(at, "use_default_model")
    t = at.session_state["workspace"].trained.train_config
    assert (t.lr, t.optimizer, t.batch_size, t.weight_decay, t.epochs) == \
        (0.05, "sgd", 32, 0.001, 2)


def test_a_link_reproduces_threshold_basics_and_lottery_settings():
    """A student opening the teacher's link sees the teacher's worked example and runs the
    teacher's Lottery experiment (rounds, rate, epochs, rewind), and the link hands them on."""
    query = {"ex_weights": "0.1,0.6,-0.2,0.4", "ex_t": "0.35", "lt_rounds": "1",
             "lt_rate": "20", "lt_epochs": "2", "lt_rewind": "1", "epochs": "2"}
    at = new_app(query, page=THRESHOLD, epochs=None)
    bars = [t for t in at.markdown if "stay" in t.value]
    assert any("0.6 and 0.4 stay" in t.value for t in bars), [t.value for t in bars]
    assert at.slider(key="_w_thr_t").value == 0.35
    goto(at, LOTTERY)
    assert [at.session_state[k] for k in ("lt_rounds", "lt_rate", "lt_epochs", "lt_rewind")] \
        == [1, 20, 2, 1]
    click(at, "lt_run")
    assert not at.exception and not at.error, [e.value for e in at.error]
    settings, table = at.session_state["workspace"].extras["lottery"]
    cfg = settings[3]
    assert len(table) and not at.error
    assert (cfg.rounds, cfg.prune_rate, cfg.epochs, cfg.rewind_epoch) == (1, 0.2, 2, 1)
    click(at, "share_students")
    link = _shown_link(at)
    assert {k: link.get(k) for k in query} == query
