"""The run configurations and rule files newsbeam ships, as package data (YAML only, no code).

Installed with newsbeam, so a run finds its default rules through this package (``importlib.resources``)
wherever it is started; ``pipeline.config`` says how a config names its rule files and extends another.
"""
