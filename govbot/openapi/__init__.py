"""OpenAPI documents: loading (load), the surface model (model), audience and diff."""
