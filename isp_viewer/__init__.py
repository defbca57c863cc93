"""ISP Viewer: compare learned camera pipelines on RAW photos."""

__version__ = "0.1.0"
