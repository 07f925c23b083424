# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
ONNX operators each TensorRT ONNX parser imports, as data for `fxseg check`.

The 'Y' rows of onnx/onnx-tensorrt `docs/operators.md` on the release branch of that parser.

'10' and '11' use the 10.1-GA list, the oldest of the 10.x line: later parsers (10.15 lists opsets
9 to 24; TensorRT 11.0 bundles onnx-tensorrt release/10.7-GA and adds Swish) import a superset.
RULES_SOURCE records which release each list (and trt_rules.OPSET_RANGE) is read from: a concrete
TensorRT newer than that gets the list's misses as warnings, not errors (trt_rules).
"""

#: Check version -> the parser release its operator list and opset range are read from.
RULES_SOURCE = {'8.0': (8, 0), '8.2': (8, 2), '8.5': (8, 5), '8.6': (8, 6), '10': (10, 1),
                '11': (11, 0)}

#: Check version -> ONNX op types (default domain) the parser imports.
SUPPORTED_OPS = {
    # onnx-tensorrt 8.0-GA docs/operators.md ('Y' rows, 121 ops)
    '8.0': frozenset("""
        Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool
        BatchNormalization Cast Ceil Celu Clip Concat Constant ConstantOfShape Conv
        ConvTranspose Cos Cosh CumSum DepthToSpace DequantizeLinear Div Dropout Elu Equal Erf
        Exp Expand EyeLike Flatten Floor Gather GatherElements Gemm GlobalAveragePool
        GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GRU HardSigmoid Identity If
        ImageScaler InstanceNormalization LeakyRelu Less LessOrEqual Log LogSoftmax Loop LRN
        LSTM LpNormalization LpPool MatMul Max MaxPool Mean Min Mul Neg NonMaxSuppression Not Or
        Pad ParametricSoftplus Pow PRelu QuantizeLinear RandomUniform RandomUniformLike Range
        ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd
        ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence RNN ScaledTanh Scan Selu
        Shape Sigmoid Sin Sinh Size Slice Softmax Softplus Softsign SpaceToDepth Split Sqrt
        Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK Transpose Unsqueeze Upsample Where
""".split()),
    # onnx-tensorrt 8.2-GA docs/operators.md ('Y' rows, 129 ops)
    '8.2': frozenset("""
        Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool
        BatchNormalization Cast Ceil Celu Clip Concat Constant ConstantOfShape Conv
        ConvTranspose Cos Cosh CumSum DepthToSpace DequantizeLinear Div Dropout Einsum Elu Equal
        Erf Exp Expand EyeLike Flatten Floor Gather GatherElements GatherND Gemm
        GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GRU HardSigmoid
        Identity If ImageScaler InstanceNormalization IsNaN LeakyRelu Less LessOrEqual Log
        LogSoftmax Loop LRN LSTM LpNormalization LpPool MatMul Max MaxPool Mean Min Mul Neg
        NonMaxSuppression Not Or Pad ParametricSoftplus Pow PRelu QuantizeLinear RandomUniform
        RandomUniformLike Range ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax
        ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize
        ReverseSequence RNN Round ScaledTanh Scan Scatter ScatterElements ScatterND Selu Shape
        Sigmoid Sign Sin Sinh Size Slice Softmax Softplus Softsign SpaceToDepth Split Sqrt
        Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK Transpose Unsqueeze Upsample Where
""".split()),
    # onnx-tensorrt 8.5-GA docs/operators.md ('Y' rows, 142 ops)
    '8.5': frozenset("""
        Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool
        BatchNormalization Cast Ceil Celu Clip Concat Constant ConstantOfShape Conv
        ConvTranspose Cos Cosh CumSum DepthToSpace DequantizeLinear Div Dropout Einsum Elu Equal
        Erf Exp Expand EyeLike Flatten Floor Gather GatherElements GatherND Gemm
        GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample GRU
        HardSwish HardSigmoid Identity If ImageScaler InstanceNormalization IsNaN LeakyRelu Less
        LessOrEqual Log LogSoftmax Loop LRN LSTM LpNormalization LpPool MatMul Max MaxPool Mean
        MeanVarianceNormalization Min Mod Mul Neg NonMaxSuppression NonZero Not OneHot Or Pad
        ParametricSoftplus Pow PRelu QuantizeLinear RandomNormal RandomNormalLike RandomUniform
        RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp
        ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize
        ReverseSequence RNN RoiAlign Round ScaledTanh Scan Scatter ScatterElements ScatterND
        Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax Softplus Softsign
        SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK Transpose
        Trilu Unsqueeze Upsample Where Xor
""".split()),
    # onnx-tensorrt 8.6-GA docs/operators.md ('Y' rows, 145 ops)
    '8.6': frozenset("""
        Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool
        BatchNormalization Cast Ceil Celu Clip Concat Constant ConstantOfShape Conv
        ConvTranspose Cos Cosh CumSum DepthToSpace DequantizeLinear Div Dropout Einsum Elu Equal
        Erf Exp Expand EyeLike Flatten Floor Gather GatherElements GatherND Gemm
        GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample
        GroupNormalization GRU HardSwish HardSigmoid Identity If ImageScaler
        InstanceNormalization IsInf IsNaN LayerNormalization LeakyRelu Less LessOrEqual Log
        LogSoftmax Loop LRN LSTM LpNormalization LpPool MatMul Max MaxPool Mean
        MeanVarianceNormalization Min Mod Mul Neg NonMaxSuppression NonZero Not OneHot Or Pad
        ParametricSoftplus Pow PRelu QuantizeLinear RandomNormal RandomNormalLike RandomUniform
        RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp
        ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize
        ReverseSequence RNN RoiAlign Round ScaledTanh Scan Scatter ScatterElements ScatterND
        Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax Softplus Softsign
        SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK Transpose
        Trilu Unsqueeze Upsample Where Xor
""".split()),
    # onnx-tensorrt 10.1-GA docs/operators.md ('Y' rows, 150 ops)
    '10': frozenset("""
        Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool
        BatchNormalization Cast CastLike Ceil Celu Clip Concat Constant ConstantOfShape Conv
        ConvTranspose Cos Cosh CumSum DeformConv DepthToSpace DequantizeLinear Div Dropout
        Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor Gather GatherElements GatherND
        Gelu Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample
        GroupNormalization GRU HardSigmoid HardSwish Hardmax Identity If ImageScaler
        InstanceNormalization IsInf IsNaN LayerNormalization LeakyRelu Less LessOrEqual Log
        LogSoftmax Loop LRN LSTM LpNormalization LpPool MatMul Max MaxPool Mean
        MeanVarianceNormalization Min Mish Mod Mul Neg NonMaxSuppression NonZero Not OneHot Or
        Pad ParametricSoftplus Pow PRelu QuantizeLinear RandomNormal RandomNormalLike
        RandomUniform RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum
        ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu
        Reshape Resize ReverseSequence RNN RoiAlign Round ScaledTanh Scan Scatter
        ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax
        Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile
        TopK Transpose Trilu Unsqueeze Upsample Where Xor
""".split()),
}
SUPPORTED_OPS['11'] = SUPPORTED_OPS['10'] | frozenset(['Swish'])  # TensorRT 11.0 CHANGELOG.md
