#include "source/common/grpc/framing.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message_lite.h>

#include "absl/strings/str_cat.h"

namespace modgate::grpc {
namespace {

void appendHeader(uint8_t flags, uint32_t length, buffer::Buffer& output) {
  const uint8_t header[kFrameHeaderBytes] = {
      flags,
      static_cast<uint8_t>(length >> 24),
      static_cast<uint8_t>(length >> 16),
      static_cast<uint8_t>(length >> 8),
      static_cast<uint8_t>(length),
  };
  output.add(header, sizeof(header));
}

}  // namespace

void encodeFrame(std::string_view message, buffer::Buffer& output) {
  appendHeader(0, static_cast<uint32_t>(message.size()), output);
  output.add(message);
}

void encodeMessage(const google::protobuf::MessageLite& message, buffer::Buffer& output) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  appendHeader(0, static_cast<uint32_t>(bytes.size()), output);
  output.addShared(std::make_shared<const std::string>(std::move(bytes)));
}

absl::Status FrameDecoder::decode(buffer::Buffer& input, std::vector<std::string>& messages) {
  if (!failure_.ok()) {
    input.drain(input.length());
    return failure_;
  }
  partial_.move(input);
  while (partial_.length() >= kFrameHeaderBytes) {
    uint8_t header[kFrameHeaderBytes];
    partial_.copyOut(header, sizeof(header));
    const uint32_t length = (uint32_t{header[1]} << 24) | (uint32_t{header[2]} << 16) |
                            (uint32_t{header[3]} << 8) | uint32_t{header[4]};
    if (header[0] == 1) {
      failure_ = absl::UnimplementedError(
          "compressed gRPC message, but no grpc-encoding is supported (identity only)");
    } else if (header[0] != 0) {
      failure_ =
          absl::InternalError(absl::StrCat("invalid gRPC frame flags 0x", absl::Hex(header[0])));
    } else if (length > max_message_bytes_) {
      failure_ = absl::ResourceExhaustedError(absl::StrCat(
          "gRPC message of ", length, " bytes exceeds the maximum of ", max_message_bytes_));
    }
    if (!failure_.ok()) {
      partial_.drain(partial_.length());
      return failure_;
    }
    if (partial_.length() < kFrameHeaderBytes + length) break;
    partial_.drain(kFrameHeaderBytes);
    std::string& message = messages.emplace_back(length, '\0');
    if (length > 0) partial_.copyOut(message.data(), length);
    partial_.drain(length);
  }
  return absl::OkStatus();
}

}  // namespace modgate::grpc
