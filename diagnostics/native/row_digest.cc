// RowDigest: for each row (slice along the first dimension) of a tensor, the XXH3-64
// hash of its bytes, and, for a float tensor, whether every value is finite -- in one
// pass over the batch, on the calling thread (a tf.data function's), with no Python.
// keras_hooks describes every trained batch with it; fingerprint.py hashes the source's
// arrays with it, so both sides agree. Built by build.py; without it fitprobe uses
// tf.fingerprint (FarmHash64) and a separate NaN/Inf pass.
#include <cstdint>
#include <cstring>

#ifdef ROW_DIGEST_X86_DISPATCH
#include "xxh_x86dispatch.h"  // picks SSE2, AVX2 or AVX-512 when first called
#define ROW_DIGEST_XXH3 XXH3_64bits_dispatch
#else
#define XXH_INLINE_ALL
#include "xxhash.h"
#define ROW_DIGEST_XXH3 XXH3_64bits
#endif

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace {

using tensorflow::DEVICE_CPU;
using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;
using tensorflow::shape_inference::InferenceContext;

// The sign bit of the result is set iff some value's magnitude bits reach those of Inf
// (an Inf or a NaN): the magnitude plus one exponent step carries into the sign bit
// only from an all-ones exponent. Add and OR only, so it vectorizes on any x86-64
// (SSE2) and elsewhere. Word: the float's bits; mantissa: its mantissa's bit count.
template <typename Word, int kMantissaBits>
Word NonFiniteBits(const char* bytes, size_t count) {
  constexpr Word kSign = Word{1} << (8 * sizeof(Word) - 1);
  constexpr Word kExponentStep = Word{1} << kMantissaBits;
  Word seen = 0;
  for (size_t k = 0; k < count; ++k) {
    Word word;
    std::memcpy(&word, bytes + sizeof(Word) * k, sizeof(Word));
    seen |= (word & ~kSign) + kExponentStep;
  }
  return seen & kSign;
}

// Nonzero iff a float tensor's `bytes` hold a NaN or an Inf; 0 for other dtypes.
uint64_t NonFinite(tensorflow::DataType dtype, const char* bytes, size_t size) {
  if (dtype == tensorflow::DT_FLOAT) return NonFiniteBits<uint32_t, 23>(bytes, size / 4);
  if (dtype == tensorflow::DT_DOUBLE) return NonFiniteBits<uint64_t, 52>(bytes, size / 8);
  return 0;
}

constexpr size_t kRowCheckBytes = 4096;

class RowDigestOp : public OpKernel {
 public:
  explicit RowDigestOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("hashed", &hashed_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& input = ctx->input(0);
    OP_REQUIRES(ctx, input.dims() >= 1,
                absl::InvalidArgumentError("RowDigest needs rows: a tensor of rank >= 1"));
    const int64_t rows = input.dim_size(0);
    Tensor* hashes = nullptr;
    Tensor* finite = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({hashed_ ? rows : 0}), &hashes));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({}), &finite));
    const absl::string_view data = input.tensor_data();
    const size_t width = rows > 0 ? data.size() / rows : 0;  // bytes a row
    const tensorflow::DataType dtype = input.dtype();
    auto out = hashes->flat<int64_t>();
    // Wide rows are checked each right after its hash, while it is in the cache;
    // narrow ones (or none hashed) in one pass over the whole buffer.
    const bool per_row = hashed_ && width >= kRowCheckBytes;
    uint64_t nonfinite = 0;
    for (int64_t i = 0; hashed_ && i < rows; ++i) {
      const char* row = data.data() + i * width;
      out(i) = static_cast<int64_t>(ROW_DIGEST_XXH3(row, width));
      if (per_row) nonfinite |= NonFinite(dtype, row, width);
    }
    if (!per_row) nonfinite = NonFinite(dtype, data.data(), data.size());
    finite->scalar<bool>()() = nonfinite == 0;
  }

 private:
  bool hashed_ = true;
};

}  // namespace

REGISTER_OP("FitprobeRowDigest")
    .Input("rows: T")
    .Output("hashes: int64")
    .Output("finite: bool")
    .Attr("T: {float, double, int64, uint8}")
    .Attr("hashed: bool = true")
    .SetShapeFn([](InferenceContext* c) {
      bool hashed = true;
      TF_RETURN_IF_ERROR(c->GetAttr("hashed", &hashed));
      tensorflow::shape_inference::ShapeHandle rows;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 1, &rows));
      c->set_output(0, hashed ? c->Vector(c->Dim(rows, 0)) : c->Vector(0));
      c->set_output(1, c->Scalar());
      return absl::OkStatus();
    });

REGISTER_KERNEL_BUILDER(Name("FitprobeRowDigest").Device(DEVICE_CPU), RowDigestOp);
