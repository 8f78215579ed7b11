#pragma once
// Per-input-channel scaling that leaves a model's function unchanged: the layers reading one value get
// W[:, j] *= s_j while the op producing that value divides its channel j by s_j (a norm's weight and bias,
// or the rows of the linear layer feeding a SwiGLU Mul). AWQ and SmoothQuant both migrate difficulty
// between activations and weights this way.
#include <optional>
#include <string>
#include <vector>

#include "edgec/core/graph.hpp"
#include "edgec/quant/layers.hpp"

namespace edgec::quant {

struct InputGroup {
  std::string input;             // the value every layer of the group reads
  std::vector<size_t> layers;    // indices into the layer list given to input_groups
  enum class Absorber { none, norm, linear } absorber = Absorber::none;
  size_t absorber_node = 0;      // graph node index of the norm
  size_t absorber_layer = 0;     // layer index of the absorbing linear layer
};

// Groups `layers` by the value they read and finds, for each group, where a channel scaling can be absorbed:
// a RMSNorm / LayerNorm (edgec or ONNX LayerNormalization over the last axis) read only by the group, or a
// linear layer (of `layers`) whose output reaches the group only through an elementwise Mul (SwiGLU's up
// projection) or directly.
std::vector<InputGroup> input_groups(const Graph& graph, const std::vector<LinearLayer>& layers);

// Applies W[:, j] *= s_j to the group's layers and divides the absorber's channel j by s_j. Throws
// Error(internal) when the group has no absorber.
void fold_channel_scales(Graph& graph, const InputGroup& group, const std::vector<LinearLayer>& layers,
                         const std::vector<double>& scales);

}  // namespace edgec::quant
