"""Helpers shared by the tests (no tests here), importable as ``support`` (pytest's ``pythonpath``).

``support.client``: a scripted provider for the client facade tests; ``support.cli``: a mock provider
and an in-process runner for the image commands; ``support.server``: input images and spec checks for
the reference provider tests; ``support.kit``: interactions and streams for the check and record tests; ``support.batch``: manifests and request counts for the batch tests; ``support.browser``: headless
Chromium for the HTML report and the demo gallery.
"""
