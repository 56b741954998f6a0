"""An Input that takes every key in the order it was typed.

Textual (8.2) inserts a printable key as soon as it reaches the Input, but sends
an editing key (backspace, the arrows, ctrl+w, Enter) up to the app, which finds
the Input's binding and calls back. When keys arrive together (a fast typist,
or keys typed while the app was busy loading torch), the characters typed after
a backspace were inserted before it ran: `ab⌫c` gave `ab`. Here the Input runs
its own bindings at once, so the text is what was typed.

Enter hands the text over and empties the box in the same moment, so keys typed
right behind Enter belong to the next answer; whoever handles `Submitted` puts
the text back when it wants it kept (a wrong answer, to be corrected).
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class TypedInput(Input):
    async def _on_key(self, event: events.Key) -> None:
        bindings = self._bindings.key_to_bindings.get(event.key)
        if bindings and not event.is_printable:
            event.stop()
            event.prevent_default()
            await self.run_action(bindings[0].action)
            return
        await super()._on_key(event)

    async def action_submit(self) -> None:
        text = self.value
        with self.prevent(Input.Changed):
            self.value = ""
        self.post_message(self.Submitted(self, text))

    def take(self) -> str:
        """The text in the box, leaving it empty (without a Changed message)."""
        text = self.value
        with self.prevent(Input.Changed):
            self.value = ""
        return text

    def put_back(self, text: str) -> None:
        """`text` in front of whatever was typed since, without a Changed message."""
        with self.prevent(Input.Changed):
            self.value = text + self.value
            self.cursor_position = len(self.value)
