"""Shared semantics of change: the journal reader now; the iCalendar mapping and tokens later."""
