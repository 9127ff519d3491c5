"""Each method note names its paper and says where the app differs (issue #13)."""
from pruning.present.scorer_compare import method_note, scorer_reference
from pruning.scoring import SCORERS


def test_every_published_scorer_names_its_paper_and_the_differences():
    for name, s in SCORERS.items():
        note = method_note(name)
        if s.source:
            assert s.source in note
        if s.differs:
            assert "Where the app differs" in note and s.differs in note
    assert "Sanh" in method_note("movement") and "−Σ" in method_note("movement")
    assert "Zhou" in method_note("magnitude_increase")
    assert "trained weights instead" in method_note("snip")
    assert "Θ_TE" in SCORERS["taylor"].source
    assert "differs from the paper" in scorer_reference().columns
