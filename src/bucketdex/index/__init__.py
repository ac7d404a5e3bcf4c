"""The Index: finding items by typed metadata and media facts (issue 18)."""
