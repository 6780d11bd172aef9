"""Export a trained classifier to TFLite and ONNX, and prove each file against Keras."""
