"""GnuCash books: a safe snapshot, then a reader per format."""
