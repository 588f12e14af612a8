"""The microversions of the widget API."""

REST_API_VERSION_HISTORY = """REST API Version History:

    * 2.1 - Initial version.
    * 2.2 - Adds the name of a widget.
"""

_MIN_API_VERSION = "2.1"
_MAX_API_VERSION = "2.2"
