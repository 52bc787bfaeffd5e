import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_preselects_the_browsers_time_zone(browser, site):
    context = browser.new_context(timezone_id="America/Puerto_Rico")
    page = context.new_page()

    page.goto(f"{site.url}/accounts/signup/")

    assert page.get_by_label("Time zone").input_value() == "America/Puerto_Rico"
    context.close()


def test_a_chosen_time_zone_is_kept_when_the_form_comes_back_with_errors(browser, site):
    context = browser.new_context(timezone_id="America/Puerto_Rico")
    page = context.new_page()
    page.goto(f"{site.url}/accounts/signup/")
    page.get_by_label("Time zone").select_option("Europe/Madrid")

    page.get_by_role("button", name="Create my account").click()

    page.get_by_text("This field is required.").first.wait_for()
    assert page.get_by_label("Time zone").input_value() == "Europe/Madrid"
    context.close()
