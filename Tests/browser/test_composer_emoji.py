"""Emoji in the composer: the picker (loaded when first opened, keyboard operable, search,
"Recent", inserting at the caret), `:shortcodes:` while typing, and emoji-only messages drawn large."""
from selenium.webdriver.common.action_chains import ActionBuilder
from selenium.webdriver.common.keys import Keys

from conftest import alice_and_bob
from test_messaging import open_chat_by_search, send


def loaded(b, name):
    """Whether the page has fetched a file whose path ends with `name`."""
    return b.js("return performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname.endsWith(arguments[0]))", name)


def focused(b, attribute):
    return b.js(f"return document.activeElement?.getAttribute('{attribute}')")


def box_value(b):
    return b.js("return document.querySelector('[data-input]').value")


def emoji_in(b, css):
    """The emoji of the buttons matching css, read in one go."""
    return b.js("return [...document.querySelectorAll(arguments[0])].map((e) => e.dataset.emoji)", css)


def test_the_emoji_picker_searches_inserts_at_the_caret_and_remembers_recent_ones(server, browsers):
    _, _, alice, bob = alice_and_bob(server, browsers)
    open_chat_by_search(alice, "bob", "Bob")
    assert not loaded(alice, "/emoji-data.js"), "the emoji list is loaded before it is needed"

    box = alice.find("[data-input]")
    box.send_keys("Hello world")
    alice.js("arguments[0].setSelectionRange(5, 5)", box)   # the caret after "Hello"
    toggle = alice.find("[data-emoji-toggle]")
    toggle.click()
    search = alice.find("[data-emoji-picker] [data-emoji-search]")
    alice.wait(lambda: focused(alice, "data-emoji-search") is not None, message="the search box did not take the focus")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert loaded(alice, "/emoji-data.js")
    assert len(alice.find_all("[data-emoji-all] .emoji-btn")) >= 300
    assert not alice.find_all("[data-emoji-recent]"), "nothing used yet, but a Recent row"

    # Search by name: "heart" puts ❤️ first; ↓ goes to it, → to the next one, Enter inserts that one.
    search.send_keys("heart")
    alice.wait(lambda: alice.js("return document.querySelector('[data-emoji-all] .emoji-btn')?.dataset.emoji") == "❤️",
               message="searching 'heart' did not put ❤️ first")
    search.send_keys(Keys.ARROW_DOWN)
    assert focused(alice, "data-emoji") == "❤️"
    alice.driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    second = focused(alice, "data-emoji")
    assert second and second != "❤️"
    alice.driver.switch_to.active_element.send_keys(Keys.ENTER)
    alice.wait(lambda: not alice.find_all("[data-emoji-picker]"), message="picking did not close the picker")
    assert box_value(alice) == f"Hello{second} world", "not inserted at the caret"
    assert focused(alice, "data-input") is not None, "the focus did not come back to the message box"

    # Searching by a word of the name: "thumbs" finds 👍 and 👎 only.
    toggle.click()
    search = alice.find("[data-emoji-search]")
    search.send_keys("thumbs")
    alice.wait(lambda: emoji_in(alice, "[data-emoji-all] .emoji-btn") == ["👍", "👎"],
               message="'thumbs' did not find exactly the thumbs")
    search.send_keys(Keys.ENTER)   # Enter in the search box takes the first result
    alice.wait(lambda: box_value(alice) == f"Hello{second}👍 world", message="Enter in the search did not insert 👍 at the caret")

    # Reopened: "Recent" has the latest first; Tab from the search goes into it; Esc closes and
    # gives the focus back to the message box.
    toggle.click()
    alice.find("[data-emoji-recent]")
    recent = emoji_in(alice, "[data-emoji-recent] .emoji-btn")
    assert recent == ["👍", second], recent
    alice.driver.switch_to.active_element.send_keys(Keys.TAB)
    assert focused(alice, "data-emoji") == "👍"
    alice.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    alice.wait(lambda: not alice.find_all("[data-emoji-picker]") and toggle.get_attribute("aria-expanded") == "false",
               message="Esc did not close the picker")
    assert focused(alice, "data-input") is not None, "Esc did not give the focus back to the message box"
    alice.screenshot("emoji-after-picker")

    # Recent is kept across a reload (localStorage) and the text goes out as typed.
    alice.driver.switch_to.active_element.send_keys(Keys.ENTER)
    bob.click_text(".conversation[data-key]", "Alice")
    bob.wait_text(".msg .bubble", f"Hello{second}👍 world")
    alice.open("/")
    alice.wait_text(".chat-name", "Bob")
    alice.find("[data-emoji-toggle]").click()
    alice.find("[data-emoji-recent]")
    assert emoji_in(alice, "[data-emoji-recent] .emoji-btn") == ["👍", second]


def test_the_picker_fits_a_phone_and_closes_on_a_click_elsewhere(server, browsers):
    _, _, alice, bob = alice_and_bob(server, browsers, bob_size=(390, 844))
    open_chat_by_search(bob, "alice", "Alice")
    bob.find("[data-emoji-toggle]").click()
    picker = bob.find("[data-emoji-picker]")
    rect = bob.js("return arguments[0].getBoundingClientRect().toJSON()", picker)
    assert rect["left"] >= 0 and rect["right"] <= 390, rect
    assert bob.js("return document.documentElement.scrollWidth") <= 390
    bob.screenshot("emoji-picker-phone")
    # A click on the empty middle of the chat's header: well away from the picker, even on a phone.
    x, y = bob.js("""const header = document.querySelector('.chat-header').getBoundingClientRect();
      const title = document.querySelector('[data-chat-title]').getBoundingClientRect();
      const actions = document.querySelector('[data-chat-actions]').getBoundingClientRect();
      return [Math.round((title.right + actions.left) / 2), Math.round(header.top + header.height / 2)]""")
    assert bob.js("return document.elementFromPoint(arguments[0], arguments[1]).matches('.chat-header')", x, y), "no empty spot in the header"
    click = ActionBuilder(bob.driver)
    click.pointer_action.move_to_location(x, y).click()
    click.perform()
    bob.wait(lambda: not bob.find_all("[data-emoji-picker]"), message="a click elsewhere did not close the picker")


def suggestions(b):
    """The suggestions shown, each "<emoji> :<name>:", read in one go."""
    return b.js("return [...document.querySelectorAll('[data-shortcode-list] [role=option]')].map((o) => o.textContent.trim())")


def selected(b):
    return b.js("return document.querySelector('[data-shortcode-list] [aria-selected=true]')?.textContent.trim()")


def test_shortcodes_suggest_while_typing_and_a_closed_one_becomes_its_emoji(server, browsers):
    _, _, alice, bob = alice_and_bob(server, browsers)
    open_chat_by_search(alice, "bob", "Bob")
    box = alice.find("[data-input]")

    # Two letters after the colon: suggestions (once their code has loaded); one: nothing; three:
    # suggestions again, the first one selected. (The list is drawn as each key is typed.)
    box.send_keys("Good :sm")
    alice.wait(lambda: suggestions(alice), message="no suggestions for :sm")
    box.send_keys(Keys.BACKSPACE)
    assert not suggestions(alice), "suggestions after one letter"
    box.send_keys("mi")
    alice.wait(lambda: len(suggestions(alice)) > 1, message="no suggestions for :smi")
    shown = suggestions(alice)
    assert all("smi" in s for s in shown), shown
    first, second = shown[0], shown[1]
    assert selected(alice) == first
    assert box.get_attribute("aria-activedescendant") == "shortcode-option-0"
    # ↓ selects the next one, Enter inserts it in place of ":smi" (and does not send).
    box.send_keys(Keys.ARROW_DOWN)
    assert selected(alice) == second
    box.send_keys(Keys.ENTER)
    emoji = second.split()[0]
    alice.wait(lambda: box_value(alice) == f"Good {emoji}", message=f"Enter did not insert {emoji}")
    assert not alice.find_all("[data-shortcode-list] [role=option]")
    assert not alice.find_all(".msg[data-cmid]"), "Enter with the list open sent the message"

    # A complete :heart: becomes ❤️ as the closing colon is typed; Tab inserts from the list too.
    box.send_keys(" and :heart:")
    alice.wait(lambda: box_value(alice) == f"Good {emoji} and ❤️", message=":heart: was not replaced")
    box.send_keys(" :thumbs")
    alice.wait(lambda: suggestions(alice), message="no suggestions for :thumbs")
    box.send_keys(Keys.TAB)
    alice.wait(lambda: box_value(alice) == f"Good {emoji} and ❤️ 👍", message="Tab did not insert 👍")

    # Esc dismisses the list and leaves the text; typing on in the same shortcode (":tada" still
    # matches 🎉) does not bring it back; Enter then sends the message as it is.
    box.send_keys(" :tad_x")
    box.send_keys(Keys.BACKSPACE, Keys.BACKSPACE)
    alice.wait(lambda: suggestions(alice), message="no suggestions for :tad")
    box.send_keys(Keys.ESCAPE)
    alice.wait(lambda: not suggestions(alice), message="Esc did not close the suggestions")
    box.send_keys("a")
    assert not suggestions(alice), "a dismissed shortcode came back"
    box.send_keys(Keys.ENTER)
    text = f"Good {emoji} and ❤️ 👍 :tada"
    bob.click_text(".conversation[data-key]", "Alice")
    bob.wait_text(".msg .bubble", text)
    assert box_value(alice) == ""

    # Times and links are not shortcodes (the suggestions' code is loaded: they showed above).
    box.send_keys("at 12:30 see https://example.com")
    assert not suggestions(alice)


def drawn_texts(b):
    """Each text bubble as drawn, read in one go (the list redraws as receipts come in)."""
    return b.js("""return [...document.querySelectorAll('.msg[data-type=text] .bubble')].map((el) => ({
        text: el.textContent.trim(), big: el.classList.contains('emoji-only'),
        font: parseFloat(getComputedStyle(el).fontSize), height: el.querySelector('.text').getBoundingClientRect().height }))""")


def test_messages_of_only_emoji_are_drawn_large(server, browsers):
    _, _, alice, bob = alice_and_bob(server, browsers)
    open_chat_by_search(alice, "bob", "Bob")
    send(alice, "plain words 🎉")
    send(alice, "👍🏽🇬🇧👨‍👩‍👧‍👦")
    send(alice, "🎉🎉🎉🎉")
    bob.click_text(".conversation[data-key]", "Alice")
    for b in (alice, bob):
        b.wait(lambda: [d["text"] for d in drawn_texts(b)] == ["plain words 🎉", "👍🏽🇬🇧👨‍👩‍👧‍👦", "🎉🎉🎉🎉"], message="the three messages are not shown")
        words, big, four = drawn_texts(b)
        assert big["big"] and not words["big"]
        assert not four["big"], "four emoji are drawn large"
        assert big["font"] >= 2 * words["font"], (big, words)
        # Drawn large, a line of emoji is much taller than a line of text.
        assert big["height"] > 1.8 * words["height"], (big, words)
    bob.screenshot("emoji-only-messages")
