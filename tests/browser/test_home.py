"""A new student opens the app: the home page loads in a real browser, cleanly."""
from tests.browser import kit


def test_home_page_loads_without_errors(page, base_url):
    kit.open_app(page, base_url)
    assert page.get_by_role("heading", name="Pruning Playground").is_visible()
    # The app-wide settings live in the sidebar on every page.
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_by_text("Experiment settings").is_visible()
    kit.assert_no_exception(page, "home")
    assert not kit.error_texts(page), kit.error_texts(page)
    kit.assert_charts_rendered(page, minimum=0, where="home")
    kit.screenshot(page, "home")
