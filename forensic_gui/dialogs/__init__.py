"""Dialogs and message helpers: plain-language messages, never a traceback."""
