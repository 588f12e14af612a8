"""One module per schema revision: ``<rev>_<slug>.py``, revisions numbered 0001, 0002 ..."""
