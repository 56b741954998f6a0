"""What a front end shows, computed from a lesson session: the presenter.

The Textual screens, `--plain` and the summary all draw from here, so every
front end says the same thing and hides the same things. Nothing here imports
Textual or rich: text comes as lines of styled spans (`spans.py`) that each
front end turns into its own kind of text, and Markdown stays Markdown until
a front end renders it (`text.py` does it for plain text).
"""
