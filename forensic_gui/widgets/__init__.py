"""Widgets of the main window; each gets data through methods and reports through signals."""
