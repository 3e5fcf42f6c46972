"""The Textual UI: one module per pane, widgets/ and screens/ (dialogs)."""
