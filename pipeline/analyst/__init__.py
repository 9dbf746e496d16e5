"""Tools for the analyst over a finished output folder: ``sql`` (statements and the interactive shell on
DuckDB) and ``report`` (the HTML page with charts). Reads through ``output.views``; imports no graph, no
command and no worker plumbing.
"""
