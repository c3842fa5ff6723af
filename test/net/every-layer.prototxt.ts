// every-layer.prototxt.ts — a small network through every layer type, with a fan-out (split), in-place layers and shared weights.
export const EVERY_LAYER_NET = `
name: "EveryLayer"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 5 dim: 6 } } }
layer { name: "label" type: "Input" top: "label" input_param { shape { dim: 2 } } }
layer { name: "noise" type: "DummyData" top: "noise" dummy_data_param { shape { dim: 2 dim: 3 } data_filler { type: "gaussian" } } }
layer { name: "silence" type: "Silence" bottom: "noise" }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "uniform" min: -0.2 max: 0.2 } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" relu_param { negative_slope: 0.3 } }
layer { name: "norm1" type: "LRN" bottom: "conv1" top: "norm1" lrn_param { local_size: 3 alpha: 0.5 } }
layer { name: "pool1" type: "Pooling" bottom: "norm1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "scale1" type: "Scale" bottom: "pool1" top: "scale1" scale_param { bias_term: true filler { type: "uniform" min: 0.5 max: 1.5 } } }
layer { name: "power1" type: "Power" bottom: "pool1" top: "power1" power_param { power: 2 scale: 0.5 shift: 1 } }
layer { name: "sum1" type: "Eltwise" bottom: "scale1" bottom: "power1" top: "sum1" eltwise_param { coeff: 1 coeff: -0.5 } }
layer { name: "avg1" type: "Pooling" bottom: "pool1" top: "avg1" pooling_param { pool: AVE kernel_size: 1 } }
layer { name: "prod1" type: "Eltwise" bottom: "sum1" bottom: "avg1" top: "prod1" eltwise_param { operation: PROD } }
layer { name: "flat1" type: "Flatten" bottom: "prod1" top: "flat1" }
layer { name: "ip1" type: "InnerProduct" bottom: "flat1" top: "ip1"
  param { name: "shared_w" } param { lr_mult: 2 }
  inner_product_param { num_output: 5 weight_filler { type: "xavier" } } }
layer { name: "ip2" type: "InnerProduct" bottom: "pool1" top: "ip2"
  param { name: "shared_w" } param { decay_mult: 0 }
  inner_product_param { num_output: 5 weight_filler { type: "xavier" } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "concat1" type: "Concat" bottom: "ip1" bottom: "ip2" top: "concat1" }
layer { name: "drop1" type: "Dropout" bottom: "concat1" top: "concat1" dropout_param { dropout_ratio: 0.3 } }
layer { name: "prob1" type: "Softmax" bottom: "concat1" top: "prob1" }
layer { name: "ip3" type: "InnerProduct" bottom: "prob1" top: "ip3" inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 2 } } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip3" bottom: "label" top: "accuracy" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip3" bottom: "label" top: "loss" loss_weight: 2 }
`;
