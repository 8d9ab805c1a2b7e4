"""Export: SavedModel in TF Serving layout, and ONNX.

The one package of `msakeras` that imports TensorFlow and torch (lazily,
inside the functions that need them). `import msakeras` does not import it; use
`from msakeras.export import export_saved_model`.
"""

from msakeras.export.onnx_export import OnnxExportError
from msakeras.export.onnx_export import export_onnx
from msakeras.export.saved_model import ExportError
from msakeras.export.saved_model import export_saved_model
from msakeras.export.saved_model import next_version
from msakeras.export.saved_model import probe_batch
from msakeras.export.saved_model import serving_input_specs
from msakeras.export.serving_model import ServingModel
