"""The seed-compatible ``RunningHubClient`` under its historical import path.

It lives in ``runninghub._seed_client``; this module keeps ``from runninghub.compat import
RunningHubClient, load_config, get_api_key`` working for code written against the seed.
"""

from ._seed_client import RunningHubClient, get_api_key, load_config

__all__ = ["RunningHubClient", "get_api_key", "load_config"]
