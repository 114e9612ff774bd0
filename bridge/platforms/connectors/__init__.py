"""Platform connectors: one module per platform behind `bridge.connectors.base.Connector`."""
