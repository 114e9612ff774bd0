"""Remote servers for the tests: fediverse instances and commercial platforms as aiohttp apps that speak the
documented protocol and record what they receive."""
