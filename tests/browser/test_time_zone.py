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


def test_a_browser_reporting_an_old_zone_name_gets_its_place_preselected(browser, site):
    # Chromium names India's zone "Asia/Calcutta"; the list offers it as "Asia/Kolkata".
    context = browser.new_context(timezone_id="Asia/Calcutta")
    page = context.new_page()

    page.goto(f"{site.url}/accounts/signup/")

    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Calcutta"
    assert page.get_by_label("Time zone").input_value() == "Asia/Kolkata"
    context.close()


def test_typing_part_of_a_place_narrows_the_list_to_it(browser, site):
    context = browser.new_context(timezone_id="UTC")
    page = context.new_page()
    page.goto(f"{site.url}/accounts/signup/")
    search = page.get_by_label("Find by city or country")
    zone = page.get_by_label("Time zone")
    assert zone.locator("option").count() > 400

    # Accents and case do not matter; the one match is chosen.
    search.fill("sao paulo")
    assert zone.input_value() == "America/Sao_Paulo"
    assert zone.locator("option").count() == 1
    page.get_by_role("status").filter(has_text="Time zones that match: 1").wait_for()

    # A country finds all its zones; Enter goes to the list instead of sending the form.
    search.fill("new zealand")
    assert sorted(zone.locator("option").evaluate_all("options => options.map(o => o.value)")) == [
        "Pacific/Auckland",
        "Pacific/Chatham",
    ]
    search.press("Enter")
    assert page.url == f"{site.url}/accounts/signup/"
    assert page.evaluate("document.activeElement.id") == "id_time_zone"
    page.keyboard.press("ArrowDown")
    chosen = zone.input_value()
    assert chosen in {"Pacific/Auckland", "Pacific/Chatham"}

    # Nothing matches: the list keeps the choice rather than going empty; clearing brings back everything.
    search.fill("atlantis")
    page.get_by_role("status").filter(has_text="No time zone matches").wait_for()
    assert zone.input_value() == chosen
    search.fill("")
    assert zone.locator("option").count() > 400
    assert zone.input_value() == chosen
    context.close()
