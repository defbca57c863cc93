"""Values and state with no dependencies beyond numpy."""

from isp_viewer.core.errors import InputError, IspViewerError, ModelError, WeightsError
from isp_viewer.core.image import Image
from isp_viewer.core.region import Region

__all__ = ["Image", "InputError", "IspViewerError", "ModelError", "Region", "WeightsError"]
