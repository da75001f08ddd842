"""Build tooling: the package layout (``layout``) and the optional compiled build (``native``)."""
