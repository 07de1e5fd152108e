"""The partner module's forms, by audience (the same split as its views)."""
