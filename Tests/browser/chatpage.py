"""A page object for Confab's chat page: what a person sees and does, with waits.

Every wait is a WebDriverWait with a deadline (default WAIT); nothing sleeps.
"""

from __future__ import annotations

import re
from pathlib import Path

from selenium.common.exceptions import (
    NoAlertPresentException, StaleElementReferenceException, TimeoutException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

# A wait ends as soon as its condition holds; the deadline only bounds a failing test, and is
# generous for a browser on a loaded machine (two cores, load average 4).
WAIT = 20.0
POLL = 0.05


def _page_constant(name: str) -> float:
    """A number the page exports from web/connection.js (its reconnect timing)."""
    text = (Path(__file__).resolve().parents[2] / "web" / "connection.js").read_text()
    m = re.search(rf"^export const {name} = ([0-9.]+);", text, re.M)
    assert m, f"{name} not found in web/connection.js"
    return float(m.group(1))


# Once the server is reachable again, the page reconnects within its longest backoff (with
# jitter) at the latest; then the usual wait for it to be online.
RECONNECT_WAIT = _page_constant("BACKOFF_MAX_MS") * (1 + _page_constant("BACKOFF_JITTER")) / 1000 + WAIT
CSP_RE = re.compile(r"Content Security Policy|Refused to (execute|load|apply|connect|evaluate)", re.I)

# Records every value #status's data-status takes, so a short-lived state
# (e.g. "reconnecting" for half a second) is never missed by polling.
# Runs through WebDriver (DevTools), which the page's CSP does not govern.
STATUS_RECORDER = """
if (!window.__statusLog) {
  const node = document.getElementById('status');
  window.__statusLog = [node.dataset.status];
  new MutationObserver(() => {
    const s = node.dataset.status;
    if (window.__statusLog[window.__statusLog.length - 1] !== s) window.__statusLog.push(s);
  }).observe(node, { attributes: true, attributeFilter: ['data-status'] });
}
return window.__statusLog.slice();
"""


class ChatPage:
    def __init__(self, driver, label: str, output_dir: Path):
        self.driver = driver
        self.label = label
        self.output_dir = output_dir
        self.allowed_console: list[re.Pattern] = []
        self.console_seen: list[dict] = []

    # ---------------------------------------------------------------- basics

    def open(self, url: str):
        self.driver.get(url)
        self.wait_online()

    def wait(self, cond, message: str, timeout: float = WAIT):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=POLL,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(
                lambda d: cond(), message=message)
        except TimeoutException as e:
            raise AssertionError(f"[{self.label}] timed out after {timeout}s: {message}\n"
                                 f"{self.describe()}") from e

    def describe(self) -> str:
        """A short dump of the visible state, for failure messages."""
        try:
            return self.driver.execute_script("""
              const q = (s) => [...document.querySelectorAll(s)].map((e) => e.textContent.trim());
              return JSON.stringify({status: document.getElementById('status').textContent,
                me: document.getElementById('me').textContent, rooms: q('#rooms .room-btn'),
                directory: q('#directory li'), count: document.getElementById('user-count').textContent,
                users: q('#users .user-name').slice(0, 20), recent: q('#users-recent .user-name'),
                error: document.getElementById('error').textContent,
                messages: q('#messages > li').slice(-12)});""")
        except Exception as e:  # noqa: BLE001
            return f"(page state unavailable: {e})"

    def by_id(self, id_: str):
        return self.driver.find_element(By.ID, id_)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def screenshot(self, name: str) -> Path:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / f"{name}.png"
        # let pending layout/paint settle: the next animation frame after a render
        self.driver.execute_async_script(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));")
        assert self.driver.save_screenshot(str(path)), f"screenshot {path} was not written"
        return path

    # ---------------------------------------------------------------- status

    def status(self) -> str:
        return self.by_id("status").get_attribute("data-status")

    def status_text(self) -> str:
        return self.by_id("status").text

    def wait_status(self, status: str, timeout: float = WAIT):
        self.wait(lambda: self.status() == status, f"status {status!r}", timeout)

    def wait_online(self, timeout: float = WAIT):
        self.wait_status("online", timeout)
        self.wait(lambda: self.my_name() not in ("", "…"), "own name shown", timeout)

    def record_status(self) -> list[str]:
        return self.js(STATUS_RECORDER)

    # ---------------------------------------------------------------- identity

    def my_name(self) -> str:
        return self.by_id("me").text.strip()

    def rename(self, new_name: str):
        self.by_id("me").click()
        field = self.by_id("rename-input")
        self.wait(lambda: field.is_displayed(), "rename form shown")
        field.clear()
        field.send_keys(new_name, Keys.ENTER)

    # ---------------------------------------------------------------- rooms / users

    def users(self) -> list[str]:
        return self.js("return [...document.querySelectorAll('#users .user-name')].map((e) => e.textContent);")

    def user_count_text(self) -> str:
        return self.by_id("user-count").text

    def recent_users(self) -> list[str]:
        """A large room's "Just arrived" list (newest first); [] when hidden."""
        return self.js("""const ul = document.getElementById('users-recent');
          return ul.hidden ? [] : [...ul.querySelectorAll('.user-name')].map((e) => e.textContent);""")

    def more_button(self) -> str | None:
        """The text of the member panel's "Show more" / "Reload list" button, None when hidden."""
        return self.js("const b = document.getElementById('users-more'); return b.hidden ? null : b.textContent;")

    def click_more(self):
        """Click "Show more" (or "Reload list") and wait for the page it asked for."""
        before = self.users()
        self.by_id("users-more").click()
        self.wait(lambda: not self.by_id("users-more").get_attribute("aria-disabled") and self.users() != before,
                  "the member list changed after Show more")

    def search_shown(self) -> bool:
        return self.by_id("user-search").is_displayed()

    def find_user(self, name: str) -> str:
        """Look one name up with the member panel's search box; the answer shown."""
        field = self.by_id("user-search-input")
        field.clear()
        field.send_keys(name, Keys.ENTER)
        result = self.by_id("user-search-result")
        self.wait(lambda: result.is_displayed() and result.get_attribute("data-state") in ("found", "missing")
                  and name.lower() in result.text.lower(), f"lookup of {name!r} answered")
        return result.text

    def directory(self) -> dict[str, tuple[str, bool]]:
        """All rooms on the server: name -> (count text, joined), in sidebar order."""
        rows = self.js("""
          return [...document.querySelectorAll('#directory li')].map((li) =>
            [li.dataset.room, li.querySelector('.dir-count').textContent, li.classList.contains('joined')]);""")
        return {name: (count, joined) for name, count, joined in rows}

    def join_from_directory(self, room: str):
        self.driver.find_element(By.CSS_SELECTOR, f'#directory li[data-room="{room}"] .dir-btn').click()
        self.wait(lambda: self.current_room() == room, f"current room {room!r} after a click in All rooms")

    def rooms(self) -> dict[str, int]:
        """Room name (without #) -> unread count, in sidebar order."""
        # a list of pairs: chromedriver returns objects with sorted keys
        pairs = self.js("""
          return [...document.querySelectorAll('#rooms li')].map((li) => {
            const badge = li.querySelector('.unread');
            return [li.dataset.room, badge ? Number(badge.textContent.replace('+', '')) : 0];
          });""")
        return {name: unread for name, unread in pairs}

    def current_room(self) -> str | None:
        return self.js("const li = document.querySelector('#rooms li.current'); return li ? li.dataset.room : null;")

    def join(self, room: str):
        field = self.by_id("join-room")
        field.clear()
        field.send_keys(room, Keys.ENTER)
        self.wait(lambda: self.current_room() == room, f"current room {room!r}")

    def switch(self, room: str):
        self.driver.find_element(By.CSS_SELECTOR, f'#rooms li[data-room="{room}"] .room-btn').click()
        self.wait(lambda: self.current_room() == room, f"switched to {room!r}")

    def leave(self, room: str):
        self.driver.find_element(By.CSS_SELECTOR, f'#rooms li[data-room="{room}"] .leave').click()
        self.wait(lambda: room not in self.rooms(), f"room {room!r} gone from the sidebar")

    # ---------------------------------------------------------------- messages

    def send(self, text: str):
        box = self.by_id("input")
        box.send_keys(text, Keys.ENTER)

    def type(self, text: str):
        self.by_id("input").send_keys(text)

    def messages(self) -> list[dict]:
        """Chat messages in the current room: seq, sender, text, own/action/grouped."""
        return self.js("""
          return [...document.querySelectorAll('#messages > li.msg:not(.system)')].map((li) => ({
            seq: li.dataset.seq === undefined ? null : Number(li.dataset.seq),
            from: li.querySelector('.name')?.textContent ?? '',
            text: (li.querySelector('.text')?.textContent ?? ''),
            own: li.classList.contains('own'),
            action: li.classList.contains('action'),
            grouped: li.classList.contains('grouped'),
          }));""")

    def message_texts(self) -> list[str]:
        return [m["text"] for m in self.messages() if not m["action"]]

    def lines(self, kind: str) -> list[str]:
        """Texts of `presence` or `system` lines in the current room."""
        sel = "#messages > li.presence .text" if kind == "presence" else "#messages > li.msg.system .text"
        return self.js(f"return [...document.querySelectorAll('{sel}')].map((e) => e.textContent);")

    def wait_message(self, text: str, timeout: float = WAIT):
        self.wait(lambda: text in self.message_texts(), f"message {text!r} shown", timeout)

    def error_text(self) -> str:
        return self.js("return document.getElementById('error').textContent;")

    def error_code(self) -> str | None:
        return self.by_id("error").get_attribute("data-code")

    # ---------------------------------------------------------------- layout

    def emulate_phone(self, width: int = 390, height: int = 844):
        """A phone-sized viewport (mobile emulation through DevTools)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
        self.wait(lambda: self.js("return window.innerWidth") == width, f"viewport {width}px wide")

    def overflow_problems(self) -> list[str]:
        """Visible elements that stick out of the viewport sideways."""
        return self.js("""
          const w = document.documentElement.clientWidth, out = [];
          if (document.documentElement.scrollWidth > w) out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${w}`);
          for (const e of document.querySelectorAll('header *, main *, #composer *')) {
            const r = e.getBoundingClientRect();
            if (r.width === 0 || r.height === 0 || getComputedStyle(e).visibility === 'hidden') continue;
            if (e.closest('.visually-hidden, [hidden]')) continue;
            if (r.right > w + 0.5 || r.left < -0.5) out.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className}: ${Math.round(r.left)}..${Math.round(r.right)} of ${w}`);
          }
          return out;""")

    def contrast_problems(self) -> list[str]:
        """Visible text whose colour contrast against its background is below WCAG AA."""
        return self.js("""
          const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
            const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
          const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
          const bgOf = (e) => { for (; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
            if (c && c[3] > 0.5) return c; } return [255, 255, 255, 1]; };
          const out = [];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          const seen = new Set();
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const e = n.parentElement;
            if (!n.textContent.trim() || seen.has(e)) continue;
            seen.add(e);
            const st = getComputedStyle(e); const r = e.getBoundingClientRect();
            if (r.width === 0 || st.visibility === 'hidden' || e.closest('.visually-hidden, [hidden], .skip-link')) continue;
            if (e.closest('button:disabled')) continue;
            let fg = parse(st.color); if (!fg) continue;
            const bg = bgOf(e);
            const a = fg[3] * Number(st.opacity);
            fg = [0, 1, 2].map((i) => fg[i] * a + bg[i] * (1 - a));
            const [l1, l2] = [lum(fg), lum(bg)].sort((x, y) => y - x);
            const ratio = (l1 + 0.05) / (l2 + 0.05);
            const px = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
            const need = (px >= 24 || (bold && px >= 18.66)) ? 3 : 4.5;
            if (ratio < need) out.push(`${e.tagName.toLowerCase()}.${e.className} "${n.textContent.trim().slice(0, 30)}": ${ratio.toFixed(2)} < ${need}`);
          }
          return out;""")

    # ---------------------------------------------------------------- keyboard

    def active(self) -> dict:
        return self.js("""const e = document.activeElement, st = getComputedStyle(e);
          return {id: e.id, tag: e.tagName.toLowerCase(), cls: e.className, room: e.dataset.room ?? null,
                  text: e.textContent.trim(), outline: st.outlineStyle, outlineWidth: st.outlineWidth};""")

    def press(self, *keys):
        self.driver.switch_to.active_element.send_keys(*keys)

    def tab_until(self, pred, what: str, limit: int = 30, backwards: bool = False) -> dict:
        """Press Tab (or Shift+Tab) until the focused element satisfies `pred`."""
        from selenium.webdriver.common.keys import Keys as K
        for _ in range(limit):
            a = self.active()
            if pred(a):
                return a
            if backwards:
                self.press(K.SHIFT, K.TAB)
            else:
                self.press(K.TAB)
        a = self.active()
        assert pred(a), f"[{self.label}] {what} not reached with {limit} Tab presses; focus on {a}"
        return a

    # ---------------------------------------------------------------- safety

    def alert_open(self) -> bool:
        try:
            self.driver.switch_to.alert
            return True
        except NoAlertPresentException:
            return False

    # ---------------------------------------------------------------- console

    def allow_console(self, pattern: str):
        """Declare console lines matching `pattern` as expected in this test."""
        self.allowed_console.append(re.compile(pattern))

    def read_console(self) -> list[dict]:
        entries = self.driver.get_log("browser")
        self.console_seen += entries
        return entries

    def console_problems(self) -> list[str]:
        self.read_console()
        out = []
        for e in self.console_seen:
            msg = e.get("message", "")
            if any(p.search(msg) for p in self.allowed_console):
                continue
            if e.get("level") == "SEVERE" or CSP_RE.search(msg):
                out.append(f"[{self.label}] {e.get('level')}: {msg}")
        return out
