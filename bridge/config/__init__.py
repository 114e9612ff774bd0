"""The configuration: typed, frozen objects (model), read and checked from TOML (load), privacy settings."""
