"""The reply engine: runs replies off the request and delivers them to streams."""
