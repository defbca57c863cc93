"""Output for papers and slides, built from Images and Regions (never widget screenshots).

- `session_file`: the versioned `.ispv` session document, input checks, autosave/recovery.
- `figure`: `FigureLayout`, `Panel` and `compose` -> a `Figure` model in output pixels.
- `render` (PNG/SVG/PDF) and `slides` (PowerPoint) draw that model.
- `figure_export.export_figure`: the one call the CLI and the GUI share.
"""

from isp_viewer.export.figure import Figure, FigureLayout, Panel, compose
from isp_viewer.export.figure_export import FORMATS, ImageProvider, StaticImageProvider, export_figure, figure_for
from isp_viewer.export.session_file import Autosaver, SessionDoc, check_inputs, load, save

__all__ = [
    "FORMATS",
    "Autosaver",
    "Figure",
    "FigureLayout",
    "ImageProvider",
    "Panel",
    "SessionDoc",
    "StaticImageProvider",
    "check_inputs",
    "compose",
    "export_figure",
    "figure_for",
    "load",
    "save",
]
